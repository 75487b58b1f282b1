//! Upload (`PUT`) and download (`GET`, `HEAD`) of one generic package file (spec §4.1, §4.2).

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
use packyard_core::{gitlab_json, ApiError, Registry, RouteClass};

use crate::{metadata, GenericConfig, FORMAT};

#[derive(Deserialize)]
pub struct Coordinates {
    id: String,
    package_name: String,
    package_version: String,
    file_name: String,
}

#[derive(Deserialize)]
pub struct UploadQuery {
    status: Option<String>,
    select: Option<String>,
}

const DUPLICATE: &str = "Duplicate package is not allowed";

struct Valid {
    name: String,
    version: String,
    file_name: String,
}

fn validate(c: &Coordinates) -> Result<Valid, ApiError> {
    let bad = |e: packyard_core::FormatError| ApiError::error(StatusCode::BAD_REQUEST, e.0);
    Ok(Valid {
        name: metadata::validate_name(&c.package_name)
            .map_err(bad)?
            .to_owned(),
        version: metadata::validate_version(&c.package_version)
            .map_err(bad)?
            .to_owned(),
        file_name: metadata::stored_file_name(&c.file_name).map_err(bad)?,
    })
}

pub async fn upload(
    req: HttpRequest,
    path: web::Path<Coordinates>,
    query: web::Query<UploadQuery>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    config: web::Data<GenericConfig>,
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
    let status = match query.status.as_deref() {
        None => None,
        Some("default") => Some(PackageStatus::Default),
        Some("hidden") => Some(PackageStatus::Hidden),
        Some(_) => {
            return Err(ApiError::error(
                StatusCode::BAD_REQUEST,
                "status does not have a valid value",
            ))
        }
    };
    let select_file = match query.select.as_deref() {
        None => false,
        Some("package_file") => true,
        Some(_) => {
            return Err(ApiError::error(
                StatusCode::BAD_REQUEST,
                "select does not have a valid value",
            ))
        }
    };
    // Refuse before reading a byte when the client declares too much.
    if content_length(&req).is_some_and(|len| len > config.max_file_size) {
        return Err(ApiError::payload_too_large(config.max_file_size));
    }
    // The group's `generic_duplicates_allowed` / `generic_duplicate_exception_regex` decide
    // in `Registry::commit` (`PackageFormat::duplicate_rule`); this is the refusal.
    let duplicates = DuplicatePolicy::RejectSameFileName {
        message: DUPLICATE.into(),
    };
    let request = PublishRequest {
        format: FORMAT,
        normalized_name: valid.name.clone(),
        name: valid.name,
        version: valid.version,
        status: status.unwrap_or(PackageStatus::Default),
        status_override: status,
        package_metadata: json!({}),
        file_name: valid.file_name,
        file_metadata: json!({}),
        duplicates,
        max_size: Some(config.max_file_size),
    };
    let (_, file) = match registry
        .publish(&principal, &project, request, payload_stream(body))
        .await
    {
        Ok(done) => done,
        Err(e) if e.status() == StatusCode::CONFLICT => {
            return Err(ApiError::bad_request(DUPLICATE))
        }
        Err(e) => return Err(e),
    };
    if select_file {
        Ok(packyard_core::http::json(
            StatusCode::OK,
            &gitlab_json::package_file(&file),
        ))
    } else {
        Ok(packyard_core::http::json(
            StatusCode::CREATED,
            &json!({ "message": "201 Created" }),
        ))
    }
}

pub async fn download(
    req: HttpRequest,
    path: web::Path<Coordinates>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let project = registry
        .authorize_project(
            &principal,
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
        file_name: &valid.file_name,
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
