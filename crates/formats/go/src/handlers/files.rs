//! `PUT` and `GET`/`HEAD` `/api/v4/projects/:id/packages/go/:name/:version/:file`: a
//! starting point that publishes one file through the `Registry` (staged while hashed,
//! committed with the policy, protection and duplicate rules) and serves the newest
//! downloadable copy with `serve_newest` (ETag, Last-Modified, HEAD, 304). Replace the paths
//! with the package manager's and keep the calls.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use packyard_core::http::{content_length, payload_stream, PackageCaller};
use packyard_core::model::PackageStatus;
use packyard_core::policy::Action;
use packyard_core::ports::DuplicatePolicy;
use packyard_core::registry::PublishRequest;
use packyard_core::serve::{serve_newest, Downloadable, FileCoordinates};
use packyard_core::{ApiError, Registry, RouteClass};

use crate::{error, metadata, GoConfig, FORMAT};

#[derive(Deserialize)]
pub struct FilePath {
    id: String,
    name: String,
    version: String,
    file: String,
}

struct Valid {
    name: String,
    version: String,
    file: String,
}

fn validate(p: &FilePath) -> Result<Valid, ApiError> {
    let bad = |e: packyard_core::FormatError| error::bad_request(e.0);
    Ok(Valid {
        name: metadata::normalize_name(&p.name).map_err(bad)?,
        version: metadata::validate_version(&p.version).map_err(bad)?,
        file: metadata::validate_file_name(&p.file).map_err(bad)?,
    })
}

pub async fn upload(
    req: HttpRequest,
    path: web::Path<FilePath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    config: web::Data<GoConfig>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let project = registry
        .authorize_project(
            &principal,
            &path.id,
            Action::PublishPackage,
            RouteClass::Package,
        )
        .await?;
    let valid = validate(&path)?;
    // Refuse before reading a byte when the client declares too much.
    if content_length(&req).is_some_and(|len| len > config.max_file_size) {
        return Err(ApiError::payload_too_large(config.max_file_size));
    }
    let request = PublishRequest {
        format: FORMAT,
        normalized_name: valid.name.clone(),
        name: valid.name,
        version: valid.version,
        status: PackageStatus::Default,
        status_override: None,
        package_metadata: json!({}),
        file_name: valid.file,
        file_metadata: json!({}),
        duplicates: DuplicatePolicy::RejectSameFileName {
            message: "this file already exists in that version".into(),
        },
        max_size: Some(config.max_file_size),
    };
    registry
        .publish(&principal, &project, request, payload_stream(body))
        .await?;
    Ok(packyard_core::http::json(
        StatusCode::CREATED,
        &json!({ "message": "201 Created" }),
    ))
}

pub async fn download(
    req: HttpRequest,
    path: web::Path<FilePath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let project = registry
        .authorize_project(
            &caller.0,
            &path.id,
            Action::ReadPackage,
            RouteClass::Package,
        )
        .await?;
    let valid = validate(&path)?;
    let at = FileCoordinates {
        project: project.id,
        format: FORMAT.0,
        normalized_name: &valid.name,
        version: &valid.version,
        file_name: &valid.file,
    };
    serve_newest(
        &registry,
        &req,
        &at,
        Downloadable::All,
        "application/octet-stream",
        || ApiError::not_found("Package file"),
    )
    .await
}
