//! The sparse index: `config.json` and one index file per crate name.
//!
//! Index files are built from the package rows of the name (one JSON line per version,
//! oldest first) and cached under the catalog's revision of that name, so every process
//! serves the same bytes with the same ETag, and cargo's `If-None-Match` /
//! `If-Modified-Since` revalidation answers 304.

use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Deserialize;

use packyard_core::documents::{serve_document, Document};
use packyard_core::http::PackageCaller;
use packyard_core::policy::Action;
use packyard_core::{ApiError, Principal, Registry};

use crate::error::{authorize, authorize_at, not_found};
use crate::metadata;
use crate::views::IndexConfig;
use crate::FORMAT;

#[derive(Deserialize)]
pub struct ProjectPath {
    id: String,
}

#[derive(Deserialize)]
pub struct IndexPath {
    id: String,
    a: String,
    b: Option<String>,
    name: String,
}

/// `GET config.json`. `auth-required` unless anonymous callers may read the project, so that
/// cargo sends its token with every index and download request.
pub async fn config(
    req: HttpRequest,
    path: web::Path<ProjectPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let project = authorize(&registry, &caller.0, &path.id, Action::ReadPackage).await?;
    let anonymous_ok = registry
        .decide(&Principal::Anonymous, &project, Action::ReadPackage)
        .await?
        .is_allowed();
    let api = registry.url(&format!("/api/v4/projects/{}/packages/cargo", project.id));
    let body = serde_json::to_vec(&IndexConfig {
        dl: format!("{api}/api/v1/crates"),
        api,
        auth_required: !anonymous_ok,
    })
    .map_err(ApiError::internal)?;
    let doc = Document::of_bytes(Bytes::from(body), "application/json")?;
    Ok(serve_document(&req, &doc))
}

/// `GET 1/{n}`, `2/{n}`, `3/{c}/{n}`, `{ab}/{cd}/{name}`.
pub async fn file(
    req: HttpRequest,
    path: web::Path<IndexPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    // One stamp for the whole request (`Registry::request_stamp`).
    let stamp = registry.request_stamp(&req);
    let project = authorize_at(&registry, stamp, &caller.0, &path.id, Action::ReadPackage).await?;
    let requested = match &path.b {
        Some(b) => format!("{}/{}/{}", path.a, b, path.name),
        None => format!("{}/{}", path.a, path.name),
    };
    let lower = path.name.to_ascii_lowercase();
    let missing = || not_found(format!("no crate named `{}` in this registry", path.name));
    if metadata::check_name_syntax(&path.name).is_err()
        || metadata::index_path(&lower) != requested.to_ascii_lowercase()
    {
        return Err(missing());
    }
    let normalized = metadata::normalize_name(&lower);
    let revisions = registry
        .package_revisions_at(stamp, &[project.id], FORMAT.0, Some(&normalized))
        .await?;
    if revisions.is_empty() {
        return Err(missing());
    }
    let key = format!("cargo:index:{}:{lower}", project.id);
    let reads = registry.packages();
    let doc = registry
        .documents()
        .get_or_build(&key, &revisions, || async {
            let packages = reads
                .packages_by_name(project.id, FORMAT.0, &normalized)
                .await?;
            let mut body = Vec::with_capacity(packages.len() * 256);
            for p in packages
                .iter()
                .filter(|p| p.status.detailed() && p.name.to_ascii_lowercase() == lower)
            {
                let Some(line) = p.metadata.get("index") else {
                    continue;
                };
                serde_json::to_writer(&mut body, line).map_err(ApiError::internal)?;
                body.push(b'\n');
            }
            if body.is_empty() {
                return Err(missing());
            }
            Ok((Bytes::from(body), "text/plain; charset=utf-8".to_owned()))
        })
        .await?;
    Ok(serve_document(&req, &doc))
}
