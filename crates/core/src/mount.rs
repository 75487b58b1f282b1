//! Where formats are mounted: the one function `packyard serve` and the conformance kit
//! (`packyard_testkit::conformance`) both call, so the kit tests the routes exactly as the
//! server serves them.
//!
//! Paths are GitLab's (<https://docs.gitlab.com/user/packages/package_registry/>): project
//! routes under `/api/v4/projects/{id}/packages`, group routes under
//! `/api/v4/groups/{id}/-/packages`, instance routes under `/api/v4/packages`.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::web;

use crate::{ApiError, PackageFormat};

/// Sets the extractor error handlers (bad path, query, JSON or form body answered as a 400
/// in our error shape) and mounts every format under `/api/v4`. In the project scope the
/// formats' routes come first and `project_rest` after them (the binary: GitLab's packages
/// API); `api_rest` adds the rest of `/api/v4` after the format scopes. Root routes
/// (`PackageFormat::configure_root`) come after `/api/v4`.
pub fn mount(
    cfg: &mut web::ServiceConfig,
    formats: &[Arc<dyn PackageFormat>],
    project_rest: fn(&mut web::ServiceConfig),
    api_rest: fn(&mut web::ServiceConfig),
) {
    let project_formats = formats.to_vec();
    let group_formats = formats.to_vec();
    let instance_formats = formats.to_vec();
    let root_formats = formats.to_vec();
    cfg.app_data(web::PathConfig::default().error_handler(|e, _| bad_input("path", e)))
        .app_data(web::QueryConfig::default().error_handler(|e, _| bad_input("query", e)))
        .app_data(web::JsonConfig::default().error_handler(|e, _| bad_input("body", e)))
        .app_data(web::FormConfig::default().error_handler(|e, _| bad_input("body", e)))
        .service(
            web::scope("/api/v4")
                .service(web::scope("/projects/{id}/packages").configure(move |cfg| {
                    for f in &project_formats {
                        f.configure_project(cfg);
                    }
                    project_rest(cfg);
                }))
                .service(web::scope("/groups/{id}/-/packages").configure(move |cfg| {
                    for f in &group_formats {
                        f.configure_group(cfg);
                    }
                }))
                .service(web::scope("/packages").configure(move |cfg| {
                    for f in &instance_formats {
                        f.configure_instance(cfg);
                    }
                }))
                .configure(api_rest),
        )
        .configure(move |cfg| {
            for f in &root_formats {
                f.configure_root(cfg);
            }
        });
}

/// Nothing to add to a scope (the conformance kit mounts formats alone).
pub fn nothing(_: &mut web::ServiceConfig) {}

fn bad_input(what: &str, e: impl std::fmt::Display) -> actix_web::Error {
    ApiError::error(StatusCode::BAD_REQUEST, format!("{what} is invalid: {e}")).into()
}
