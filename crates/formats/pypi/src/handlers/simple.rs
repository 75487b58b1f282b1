//! The simple repository API (PEP 503 HTML, PEP 691 JSON) for a project and for a group
//! (every project in it and its subgroups that the caller may read).
//!
//! Pages are built from indexed catalog queries and cached in the core's `DocumentCache`
//! under the catalog revisions of what they cover, so no process serves a stale page.

use std::collections::HashMap;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Deserialize;

use packyard_core::documents::serve_document;
use packyard_core::http::PackageCaller;
use packyard_core::model::{Package, ProjectId};
use packyard_core::scope::{project_ids, Scope};
use packyard_core::{ApiError, Registry};

use crate::handlers::{file_url, keys};
use crate::metadata;
use crate::views::{self, FileLink, Representation};
use crate::FORMAT;

#[derive(Deserialize)]
pub struct IdPath {
    id: String,
}

#[derive(Deserialize)]
pub struct NamePath {
    id: String,
    name: String,
}

pub async fn project_index(
    req: HttpRequest,
    path: web::Path<IdPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    index(&req, &registry, &caller, Scope::Project(&path.id)).await
}

pub async fn group_index(
    req: HttpRequest,
    path: web::Path<IdPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    index(&req, &registry, &caller, Scope::Group(&path.id)).await
}

pub async fn project_page(
    req: HttpRequest,
    path: web::Path<NamePath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    page(
        &req,
        &registry,
        &caller,
        Scope::Project(&path.id),
        &path.name,
    )
    .await
}

pub async fn group_page(
    req: HttpRequest,
    path: web::Path<NamePath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    page(&req, &registry, &caller, Scope::Group(&path.id), &path.name).await
}

fn representation(req: &HttpRequest) -> Representation {
    views::negotiate(
        req.headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    )
}

fn ids_key(projects: &[ProjectId]) -> String {
    let mut ids: Vec<i64> = projects.iter().map(|p| p.0).collect();
    ids.sort_unstable();
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn with_vary(mut resp: HttpResponse) -> HttpResponse {
    resp.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    resp
}

async fn index(
    req: &HttpRequest,
    registry: &Registry,
    caller: &PackageCaller,
    scope: Scope<'_>,
) -> Result<HttpResponse, ApiError> {
    let readable = registry.readable_projects(req, &caller.0, scope).await?;
    let projects = &project_ids(&readable)[..];
    let repr = representation(req);
    let reads = registry.packages();
    let revisions = registry
        .package_revisions_at(registry.request_stamp(req), projects, FORMAT.0, None)
        .await?;
    let key = format!("pypi/index/{}/{}", repr.key(), ids_key(projects));
    let doc = registry
        .documents()
        .get_or_build(&key, &revisions, || async {
            let mut names: Vec<String> = reads
                .package_names(projects, FORMAT.0)
                .await?
                .into_iter()
                .map(|n| n.normalized_name)
                .collect();
            names.sort();
            names.dedup();
            let body = match repr {
                Representation::Json => views::index_json(&names),
                _ => views::index_html(&names),
            };
            Ok((Bytes::from(body), repr.content_type().to_owned()))
        })
        .await?;
    Ok(with_vary(serve_document(req, &doc)))
}

fn not_found() -> ApiError {
    ApiError::not_found("Package")
}

async fn page(
    req: &HttpRequest,
    registry: &Registry,
    caller: &PackageCaller,
    scope: Scope<'_>,
    raw_name: &str,
) -> Result<HttpResponse, ApiError> {
    let readable = registry.readable_projects(req, &caller.0, scope).await?;
    let projects = &project_ids(&readable)[..];
    metadata::validate_name(raw_name).map_err(|_| not_found())?;
    let normalized = metadata::normalize_name(raw_name);
    // PEP 503: a non-normalized name redirects to the normalized URL (with its slash).
    if raw_name != normalized || !req.path().ends_with('/') {
        let trimmed = req.path().trim_end_matches('/');
        let base = trimmed.rsplit_once('/').map(|(b, _)| b).unwrap_or("");
        return Ok(HttpResponse::MovedPermanently()
            .insert_header((
                header::LOCATION,
                packyard_core::redirect::location(&registry.url(&format!("{base}/{normalized}/"))),
            ))
            .finish());
    }
    let repr = representation(req);
    let reads = registry.packages();
    let revisions = registry
        .package_revisions_at(
            registry.request_stamp(req),
            projects,
            FORMAT.0,
            Some(&normalized),
        )
        .await?;
    let key = format!(
        "pypi/project/{}/{}/{normalized}",
        repr.key(),
        ids_key(projects)
    );
    let doc = registry
        .documents()
        .get_or_build(&key, &revisions, || async {
            let packages = match projects {
                [one] => reads.packages_by_name(*one, FORMAT.0, &normalized).await?,
                many => {
                    reads
                        .packages_by_name_in(many, FORMAT.0, &normalized)
                        .await?
                }
            };
            let mut packages: Vec<Package> = packages
                .into_iter()
                .filter(|p| p.status.detailed())
                .collect();
            if packages.is_empty() {
                return Err(not_found());
            }
            packages.sort_by(|a, b| metadata::compare_versions(&a.version, &b.version));
            let ids: Vec<_> = packages.iter().map(|p| p.id).collect();
            let mut files_by_package: HashMap<_, Vec<_>> = HashMap::new();
            for f in reads.package_files_of(&ids).await? {
                files_by_package.entry(f.package_id).or_default().push(f);
            }
            let mut versions: Vec<String> = Vec::new();
            let mut links = Vec::new();
            for p in &packages {
                if versions.last() != Some(&p.version) {
                    versions.push(p.version.clone());
                }
                let release_yank = yank_of(&p.metadata);
                let mut files = files_by_package.remove(&p.id).unwrap_or_default();
                files.sort_by(|a, b| a.file_name.cmp(&b.file_name));
                for f in files {
                    let text = |k: &str| {
                        f.metadata
                            .get(k)
                            .and_then(|v| v.as_str())
                            .map(str::to_owned)
                    };
                    links.push(FileLink {
                        url: file_url(registry, p.project_id, &f),
                        filename: f.file_name.clone(),
                        sha256: f.sha256.clone(),
                        size: f.size,
                        uploaded_at: f.created_at,
                        requires_python: text(keys::REQUIRES_PYTHON),
                        yanked: yank_of(&f.metadata).or_else(|| release_yank.clone()),
                        core_metadata_sha256: text(keys::CORE_METADATA_SHA256),
                    });
                }
            }
            let name = packages
                .last()
                .map(|p| metadata::normalize_name(&p.name))
                .unwrap_or_else(|| normalized.clone());
            let body = match repr {
                Representation::Json => views::project_json(&name, &versions, &links),
                _ => views::project_html(&name, &links),
            };
            Ok((Bytes::from(body), repr.content_type().to_owned()))
        })
        .await?;
    Ok(with_vary(serve_document(req, &doc)))
}

/// `Some(reason)` when the stored JSON marks the release or file as yanked.
fn yank_of(metadata: &serde_json::Value) -> Option<String> {
    if metadata.get(keys::YANKED).and_then(|v| v.as_bool()) == Some(true) {
        Some(
            metadata
                .get(keys::YANKED_REASON)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned(),
        )
    } else {
        None
    }
}
