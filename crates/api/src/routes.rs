//! The endpoint table (<https://docs.gitlab.com/api/packages/>, <https://docs.gitlab.com/api/rest/>).
//!
//! Two entry points, because the package routes share their scope with the format crates:
//!
//! - [`configure`] inside `web::scope("/api/v4")`;
//! - [`configure_project_packages`] inside `web::scope("/api/v4/projects/{id}/packages")`,
//!   after the format routes of that scope.
//!
//! Register the packages scope before the `/api/v4` scope: a scope that matches a prefix
//! answers 404 itself instead of falling through to a later one.
//!
//! Every resource carries `PathConfig` and `QueryConfig` error handlers, so a bad path or
//! query answers `{"error": "... is invalid"}` like GitLab's parameter validation, and every
//! resource answers 405 in GitLab's shape for a method it does not serve.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use packyard_core::ApiError;

use crate::handlers::{
    cleanup, group_packages, instance, package_settings, packages, projects, protection,
};

/// Mounted inside `web::scope("/api/v4")`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/version")
            .route(web::get().to(instance::version))
            .route(web::head().to(instance::version))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/user")
            .route(web::get().to(instance::current_user))
            .route(web::head().to(instance::current_user))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/projects/{id}")
            .app_data(path_config())
            .route(web::get().to(projects::show))
            .route(web::head().to(projects::show))
            .route(web::put().to(projects::update))
            .route(web::delete().to(projects::delete))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/projects/{id}/ci/job_token")
            .app_data(path_config())
            .route(web::post().to(projects::mint_job_token))
            .route(web::delete().to(projects::revoke_job_token))
            .default_service(web::to(method_not_allowed)),
    );
    configure_group_packages(cfg);
    configure_management(cfg);
}

/// The management API (issue #3 part A): instance settings, users, personal access tokens,
/// groups, projects, members, deploy tokens and the job-token allowlist. Fixed segments
/// (`/self`, `/members/all`) are registered before the `{param}` resources that would
/// otherwise take them.
fn configure_management(cfg: &mut web::ServiceConfig) {
    use crate::handlers::members::Kind;
    use crate::handlers::{
        deploy_tokens, groups, job_token_scope, members, settings_instance, tokens, users,
    };
    let resource = |path: &str| {
        web::resource(path)
            .app_data(path_config())
            .app_data(query_config())
            .default_service(web::to(method_not_allowed))
    };
    cfg.service(resource("/metadata").route(web::get().to(settings_instance::metadata)))
        .service(resource("/license").route(web::get().to(settings_instance::license)))
        .service(
            resource("/application/settings")
                .route(web::get().to(settings_instance::show))
                .route(web::put().to(settings_instance::update)),
        )
        .service(
            resource("/users")
                .route(web::get().to(users::list))
                .route(web::head().to(users::list))
                .route(web::post().to(users::create)),
        )
        .service(
            resource("/users/{id}")
                .route(web::get().to(users::show))
                .route(web::head().to(users::show))
                .route(web::put().to(users::update))
                .route(web::delete().to(users::delete)),
        )
        .service(resource("/users/{id}/block").route(web::post().to(users::block)))
        .service(resource("/users/{id}/unblock").route(web::post().to(users::unblock)))
        .service(
            resource("/users/{id}/personal_access_tokens")
                .route(web::post().to(tokens::create_for_user)),
        )
        .service(resource("/personal_access_tokens").route(web::get().to(tokens::list)))
        .service(
            resource("/personal_access_tokens/self")
                .route(web::get().to(tokens::show_self))
                .route(web::delete().to(tokens::revoke_self)),
        )
        .service(
            resource("/personal_access_tokens/self/rotate")
                .route(web::post().to(tokens::rotate_self)),
        )
        .service(
            resource("/personal_access_tokens/{id}")
                .route(web::get().to(tokens::show))
                .route(web::delete().to(tokens::revoke)),
        )
        .service(
            resource("/personal_access_tokens/{id}/rotate").route(web::post().to(tokens::rotate)),
        )
        .service(
            resource("/groups")
                .route(web::get().to(groups::list))
                .route(web::head().to(groups::list))
                .route(web::post().to(groups::create)),
        )
        .service(
            resource("/groups/{id}")
                .route(web::get().to(groups::show))
                .route(web::head().to(groups::show))
                .route(web::put().to(groups::update))
                .route(web::delete().to(groups::delete)),
        )
        .service(resource("/groups/{id}/subgroups").route(web::get().to(groups::subgroups)))
        .service(
            resource("/groups/{id}/descendant_groups")
                .route(web::get().to(groups::descendant_groups)),
        )
        .service(resource("/groups/{id}/projects").route(web::get().to(groups::projects)))
        .service(
            resource("/projects")
                .route(web::get().to(projects::list))
                .route(web::head().to(projects::list))
                .route(web::post().to(projects::create)),
        )
        .service(resource("/deploy_tokens").route(web::get().to(deploy_tokens::list_all)))
        .service(
            resource("/projects/{id}/job_token_scope/allowlist")
                .route(web::get().to(job_token_scope::list))
                .route(web::post().to(job_token_scope::add)),
        )
        .service(
            resource("/projects/{id}/job_token_scope/allowlist/{target_project_id}")
                .route(web::delete().to(job_token_scope::remove)),
        );
    for (prefix, kind) in [
        ("/projects/{id}", Kind::Project),
        ("/groups/{id}", Kind::Group),
    ] {
        let kind = web::Data::new(kind);
        cfg.service(
            resource(&format!("{prefix}/members"))
                .app_data(kind.clone())
                .route(web::get().to(members::list))
                .route(web::post().to(members::create)),
        )
        .service(
            resource(&format!("{prefix}/members/all"))
                .app_data(kind.clone())
                .route(web::get().to(members::list_all)),
        )
        .service(
            resource(&format!("{prefix}/members/{{user_id}}"))
                .app_data(kind.clone())
                .route(web::get().to(members::show))
                .route(web::put().to(members::update))
                .route(web::delete().to(members::delete)),
        )
        .service(
            resource(&format!("{prefix}/deploy_tokens"))
                .app_data(kind.clone())
                .route(web::get().to(deploy_tokens::list))
                .route(web::post().to(deploy_tokens::create)),
        )
        .service(
            resource(&format!("{prefix}/deploy_tokens/{{token_id}}"))
                .app_data(kind.clone())
                .route(web::get().to(deploy_tokens::show))
                .route(web::delete().to(deploy_tokens::delete)),
        );
    }
}

/// The group side of the Packages API and the group package settings (REST extension).
fn configure_group_packages(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/groups/{id}/packages")
            .app_data(path_config())
            .app_data(query_config())
            .route(web::get().to(group_packages::list))
            .route(web::head().to(group_packages::list))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/groups/{id}/packages/settings")
            .app_data(path_config())
            .route(web::get().to(package_settings::show))
            .route(web::put().to(package_settings::update))
            .default_service(web::to(method_not_allowed)),
    );
}

/// Mounted inside `web::scope("/api/v4/projects/{id}/packages")`, after the format routes.
pub fn configure_project_packages(cfg: &mut web::ServiceConfig) {
    // Fixed paths before `/{package_id}`, which would otherwise take them.
    cfg.service(
        web::resource("/protection/rules")
            .app_data(path_config())
            .route(web::get().to(protection::list))
            .route(web::head().to(protection::list))
            .route(web::post().to(protection::create))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/protection/rules/{rule_id}")
            .app_data(path_config())
            .route(web::patch().to(protection::update))
            .route(web::delete().to(protection::delete))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/cleanup_policy")
            .app_data(path_config())
            .route(web::get().to(cleanup::show))
            .route(web::put().to(cleanup::update))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/{package_id}/pipelines")
            .app_data(path_config())
            .app_data(query_config())
            .route(web::get().to(packages::pipelines))
            .route(web::head().to(packages::pipelines))
            .default_service(web::to(method_not_allowed)),
    );
    cfg.service(
        web::resource("")
            .app_data(path_config())
            .app_data(query_config())
            .route(web::get().to(packages::list))
            .route(web::head().to(packages::list))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/{package_id}")
            .app_data(path_config())
            .app_data(query_config())
            .route(web::get().to(packages::show))
            .route(web::head().to(packages::show))
            .route(web::delete().to(packages::delete))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/{package_id}/package_files")
            .app_data(path_config())
            .app_data(query_config())
            .route(web::get().to(packages::files))
            .route(web::head().to(packages::files))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/{package_id}/package_files/{file_id}")
            .app_data(path_config())
            .app_data(query_config())
            .route(web::delete().to(packages::delete_file))
            .default_service(web::to(method_not_allowed)),
    );
}

fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err, _req| ApiError::invalid_param("path").into())
}

fn query_config() -> web::QueryConfig {
    // serde_urlencoded names the offending field ("duplicate field `page`"); that text comes
    // from the client's own query string, so it is safe and useful to echo.
    web::QueryConfig::default().error_handler(|err, _req| {
        ApiError::error(StatusCode::BAD_REQUEST, format!("query is invalid: {err}")).into()
    })
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::message(
        StatusCode::METHOD_NOT_ALLOWED,
        "405 Method Not Allowed",
    ))
}
