//! Yank and un-yank (PEP 592, <https://peps.python.org/pep-0592/>): a Packyard extension,
//! as GitLab has no such endpoint.
//!
//! `PUT /api/v4/projects/:id/packages/pypi/yank/:name/:version` with an optional JSON body
//! `{"reason": "..."}` yanks a release; `?file_name=F` yanks one file of it. `DELETE` on
//! the same URL un-yanks. Maintainer or more (the right to delete packages), and the delete
//! level of the package protection rules. Simple pages
//! then show the file with `data-yanked` / `"yanked"`, so pip and uv skip it unless pinned.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use packyard_core::body::read_bounded;
use packyard_core::http::PackageCaller;
use packyard_core::model::PackageUpdate;
use packyard_core::policy::Action;
use packyard_core::registry::Guarded;
use packyard_core::{ApiError, Registry, RouteClass};

use crate::handlers::keys;
use crate::metadata;
use crate::FORMAT;

#[derive(Deserialize)]
pub struct ReleasePath {
    id: String,
    name: String,
    version: String,
}

#[derive(Deserialize)]
pub struct YankQuery {
    file_name: Option<String>,
}

/// Longest yank reason kept.
const MAX_REASON: usize = 1000;
/// Largest yank body read (a reason of `MAX_REASON` characters, escaped, fits).
const MAX_BODY: usize = 16 * 1024;

pub async fn yank(
    path: web::Path<ReleasePath>,
    query: web::Query<YankQuery>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_bounded(payload, MAX_BODY).await?;
    let reason = if body.iter().all(u8::is_ascii_whitespace) {
        String::new()
    } else {
        #[derive(Deserialize)]
        struct Body {
            reason: Option<String>,
        }
        let b: Body = serde_json::from_slice(&body).map_err(|_| {
            ApiError::bad_request("the body must be JSON like {\"reason\": \"...\"}")
        })?;
        b.reason.unwrap_or_default()
    };
    if reason.chars().count() > MAX_REASON || reason.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "reason must be at most {MAX_REASON} characters without control characters"
        )));
    }
    set(
        &path,
        query.file_name.as_deref(),
        &caller,
        &registry,
        Some(reason),
    )
    .await
}

pub async fn unyank(
    path: web::Path<ReleasePath>,
    query: web::Query<YankQuery>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    set(&path, query.file_name.as_deref(), &caller, &registry, None).await
}

fn apply(metadata: &mut serde_json::Value, reason: &Option<String>) {
    if !metadata.is_object() {
        *metadata = json!({});
    }
    match reason {
        Some(r) => {
            metadata[keys::YANKED] = json!(true);
            metadata[keys::YANKED_REASON] = json!(r);
        }
        None => {
            if let Some(m) = metadata.as_object_mut() {
                m.remove(keys::YANKED);
                m.remove(keys::YANKED_REASON);
            }
        }
    }
}

async fn set(
    path: &ReleasePath,
    file_name: Option<&str>,
    caller: &PackageCaller,
    registry: &Registry,
    reason: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let project = registry
        .authorize_project(
            &caller.0,
            &path.id,
            Action::DeletePackage,
            RouteClass::Package,
        )
        .await?;
    let version = metadata::parse_version(&path.version).map_err(|e| ApiError::bad_request(e.0))?;
    let normalized = metadata::normalize_name(&path.name);
    let reads = registry.packages();
    let package = reads
        .packages_by_name(project.id, FORMAT.0, &normalized)
        .await?
        .into_iter()
        .find(|p| metadata::parse_version(&p.version).ok().as_ref() == Some(&version))
        .ok_or_else(|| ApiError::not_found("Package"))?;
    // Yank and un-yank are guarded like a delete, by the Registry: a yanked release
    // vanishes for resolvers.
    match file_name {
        Some(f) => {
            let file = reads
                .package_files_of(&[package.id])
                .await?
                .into_iter()
                .find(|x| x.file_name == f)
                .ok_or_else(|| ApiError::not_found("Package file"))?;
            let mut meta = file.metadata.clone();
            apply(&mut meta, &reason);
            if !registry
                .update_package_file_metadata(
                    &caller.0,
                    &project,
                    &package,
                    file.id,
                    meta,
                    Guarded::Delete,
                )
                .await?
            {
                return Err(ApiError::not_found("Package file"));
            }
        }
        None => {
            let mut meta = package.metadata.clone();
            apply(&mut meta, &reason);
            registry
                .update_package(
                    &caller.0,
                    &project,
                    &package,
                    PackageUpdate {
                        status: None,
                        metadata: Some(meta),
                    },
                    Guarded::Delete,
                )
                .await?;
        }
    }
    Ok(packyard_core::http::json(
        StatusCode::OK,
        &json!({
            "name": package.name,
            "version": package.version,
            "file_name": file_name,
            "yanked": reason.is_some(),
            "yanked_reason": reason,
        }),
    ))
}
