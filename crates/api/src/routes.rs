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

use crate::handlers::{instance, packages, projects};

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
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/projects/{id}/ci/job_token")
            .app_data(path_config())
            .route(web::post().to(projects::mint_job_token))
            .default_service(web::to(method_not_allowed)),
    );
}

/// Mounted inside `web::scope("/api/v4/projects/{id}/packages")`, after the format routes.
pub fn configure_project_packages(cfg: &mut web::ServiceConfig) {
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
