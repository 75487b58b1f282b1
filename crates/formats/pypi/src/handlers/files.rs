//! `GET /api/v4/projects/:id/packages/pypi/files/:sha256/:file_name` (the download URL the
//! simple pages link to) and `<that URL>.metadata`, the wheel's core metadata (PEP 658/714,
//! <https://peps.python.org/pep-0658/>), so resolvers need not download wheels.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use packyard_core::conditional;
use packyard_core::http::PackageCaller;
use packyard_core::policy::Action;
use packyard_core::serve::{serve_file, Downloadable, FileCoordinates};
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
    let normalized = metadata::normalize_name(&dist.name);
    let version = dist.version.to_string();
    let at = FileCoordinates {
        project: project.id,
        format: FORMAT.0,
        normalized_name: &normalized,
        version: &version,
        file_name,
    };
    let found = registry
        .newest_downloadable_file(&at, Downloadable::All)
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
    // The metadata file is immutable, named by its digest: revalidated by ETag alone.
    let etag = format!("\"{sha}\"");
    let mut resp = HttpResponse::Ok();
    resp.content_type("text/plain; charset=utf-8")
        .insert_header((header::ETAG, etag.clone()))
        .insert_header(("X-Checksum-SHA256", sha.to_owned()));
    Ok(conditional::respond(
        &req,
        resp,
        Some(&etag),
        None,
        text.to_owned(),
    ))
}
