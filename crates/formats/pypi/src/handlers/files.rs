//! `GET /api/v4/projects/:id/packages/pypi/files/:sha256/:file_name` (the download URL the
//! simple pages link to) and `<that URL>.metadata`, the wheel's core metadata (PEP 658/714,
//! <https://peps.python.org/pep-0658/>), so resolvers need not download wheels.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use packyard_core::http::{serve_file, PackageCaller};
use packyard_core::model::PackageStatus;
use packyard_core::policy::Action;
use packyard_core::{ApiError, Registry, RouteClass};

use crate::handlers::keys;
use crate::metadata;
use crate::FORMAT;

#[derive(Deserialize)]
pub struct FilePath {
    id: String,
    sha256: String,
    file_name: String,
}

fn not_found() -> ApiError {
    ApiError::not_found("Package file")
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
    let (file_name, core_metadata) = match path.file_name.strip_suffix(".metadata") {
        Some(f) => (f, true),
        None => (path.file_name.as_str(), false),
    };
    let dist = metadata::parse_file_name(file_name).map_err(|_| not_found())?;
    let statuses: Vec<PackageStatus> = PackageStatus::ALL
        .into_iter()
        .filter(|s| s.downloadable())
        .collect();
    let found = registry
        .packages()
        .newest_package_file(
            project.id,
            FORMAT.0,
            &metadata::normalize_name(&dist.name),
            &dist.version.to_string(),
            file_name,
            &statuses,
        )
        .await?;
    let Some((package, file)) = found.filter(|(_, f)| f.sha256.eq_ignore_ascii_case(&path.sha256))
    else {
        return Err(not_found());
    };
    if !core_metadata {
        return serve_file(&registry, &req, &package, &file, "application/octet-stream").await;
    }
    let (Some(text), Some(sha)) = (
        file.metadata
            .get(keys::CORE_METADATA)
            .and_then(|v| v.as_str()),
        file.metadata
            .get(keys::CORE_METADATA_SHA256)
            .and_then(|v| v.as_str()),
    ) else {
        return Err(not_found());
    };
    let etag = format!("\"{sha}\"");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::ETAG, etag))
        .insert_header(("X-Checksum-SHA256", sha.to_owned()))
        .body(text.to_owned()))
}
