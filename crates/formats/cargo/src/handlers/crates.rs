//! The registry web API for existing crates: search, owners, yank/unyank, download.
//!
//! Permissions follow GitLab's package roles, with crates.io's notion of "owner" mapped to
//! the project's Maintainers and Owners: reading (search, download) needs read access, the
//! owners list the right to see the project; yank and unyank need the Maintainer role
//! (GitLab's `npm deprecate` and package deletion need it too) and pass the delete level of
//! the protection rules, because a yank changes what every user of the registry resolves.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use packyard_core::http::{json, PackageCaller};
use packyard_core::model::{Package, PackageUpdate};
use packyard_core::policy::Action;
use packyard_core::registry::Guarded;
use packyard_core::serve::{serve_newest, Downloadable, FileCoordinates};
use packyard_core::{ApiError, Principal, Registry};

use crate::error::{authorize, cargo_error, check, not_found};
use crate::metadata::{self, normalize_name};
use crate::views;
use crate::FORMAT;

#[derive(Deserialize)]
pub struct NamePath {
    id: String,
    name: String,
}

#[derive(Deserialize)]
pub struct VersionPath {
    id: String,
    name: String,
    version: String,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    per_page: Option<String>,
}

fn yanked(p: &Package) -> bool {
    p.metadata
        .get("index")
        .and_then(|i| i.get("yanked"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The published versions of a crate (exact name, any case), oldest first.
async fn versions(
    registry: &Registry,
    project: &packyard_core::model::Project,
    name: &str,
) -> Result<Vec<Package>, ApiError> {
    metadata::check_name_syntax(name)?;
    let lower = name.to_ascii_lowercase();
    let all = registry
        .packages()
        .packages_by_name(project.id, FORMAT.0, &normalize_name(name))
        .await?;
    let found: Vec<Package> = all
        .into_iter()
        .filter(|p| p.status.detailed() && p.name.to_ascii_lowercase() == lower)
        .collect();
    if found.is_empty() {
        return Err(not_found(format!(
            "no crate named `{name}` in this registry"
        )));
    }
    Ok(found)
}

/// `GET api/v1/crates?q=&per_page=`: names containing `q` (compared as crates.io compares
/// names), exact match first, with the newest non-yanked version and the description.
pub async fn search(
    path: web::Path<ProjectPathOnly>,
    query: web::Query<SearchQuery>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let project = authorize(&registry, &caller.0, &path.id, Action::ReadPackage).await?;
    let per_page = match query.per_page.as_deref() {
        None => 10,
        Some(s) => s
            .parse::<usize>()
            .map_err(|_| cargo_error(StatusCode::BAD_REQUEST, "per_page must be a number"))?
            .clamp(1, 100),
    };
    let needle = normalize_name(query.q.as_deref().unwrap_or("").trim());
    let mut names: Vec<_> = registry
        .packages()
        .package_names(&[project.id], FORMAT.0)
        .await?
        .into_iter()
        .filter(|n| n.normalized_name.contains(&needle))
        .collect();
    names.sort_by(|a, b| {
        (a.normalized_name != needle, &a.normalized_name)
            .cmp(&(b.normalized_name != needle, &b.normalized_name))
    });
    names.dedup_by(|a, b| a.normalized_name == b.normalized_name);
    let total = names.len();
    let mut crates = Vec::new();
    for n in names.into_iter().take(per_page) {
        let packages = registry
            .packages()
            .packages_by_name(project.id, FORMAT.0, &n.normalized_name)
            .await?;
        let live: Vec<&Package> = packages.iter().filter(|p| p.status.detailed()).collect();
        let newest = |only_unyanked: bool| {
            live.iter()
                .filter(|p| !only_unyanked || !yanked(p))
                .max_by(|a, b| metadata::compare_versions(&a.version, &b.version))
                .copied()
        };
        let Some(best) = newest(true).or_else(|| newest(false)) else {
            continue;
        };
        crates.push(views::SearchHit {
            name: best.name.clone(),
            max_version: best.version.clone(),
            description: best
                .metadata
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        });
    }
    Ok(json(
        StatusCode::OK,
        &views::Search {
            crates,
            meta: views::SearchMeta { total },
        },
    ))
}

#[derive(Deserialize)]
pub struct ProjectPathOnly {
    id: String,
}

/// `GET api/v1/crates/{name}/owners`: the project's Maintainers and Owners (direct or
/// inherited from its groups) and the owner of a personal namespace. A member list is
/// project information: it needs the right to see the project, not only to pull its
/// packages ("allow anyone to pull" grants the latter only).
pub async fn owners(
    path: web::Path<NamePath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let project = authorize(&registry, &principal, &path.id, Action::ReadProject).await?;
    check(&registry, &principal, &project, Action::ReadPackage).await?;
    versions(&registry, &project, &path.name).await?;
    let users = registry
        .project_maintainers(&principal, &project)
        .await?
        .into_iter()
        .map(|user| views::Owner {
            id: user.id.0,
            login: user.username,
            name: user.name,
        })
        .collect();
    Ok(json(StatusCode::OK, &views::Owners { users }))
}

/// `PUT|DELETE api/v1/crates/{name}/owners`: ownership is project membership here.
pub async fn change_owners(
    path: web::Path<NamePath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let project = authorize(&registry, &caller.0, &path.id, Action::ReadPackage).await?;
    // Only a caller who could change the crate hears how ownership works here; a Reporter or
    // a read-only token is refused as for any other write.
    check(&registry, &caller.0, &project, Action::PublishPackage).await?;
    // No project path here: a caller who may only pull ("allow anyone to pull") must not
    // learn the project's name from an error.
    Err(cargo_error(
        StatusCode::BAD_REQUEST,
        "the owners of crates in this registry are the Maintainers and Owners of the project \
         that holds the registry: add or remove project members instead",
    ))
}

pub async fn yank(
    path: web::Path<VersionPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    set_yanked(&registry, &caller.0, &path, true).await
}

pub async fn unyank(
    path: web::Path<VersionPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    set_yanked(&registry, &caller.0, &path, false).await
}

/// Yanking flips `yanked` in the version's index line; the `.crate` stays downloadable, so
/// lockfiles that pin the version keep building.
async fn set_yanked(
    registry: &Registry,
    principal: &Principal,
    path: &VersionPath,
    yanked: bool,
) -> Result<HttpResponse, ApiError> {
    let project = authorize(registry, principal, &path.id, Action::DeletePackage).await?;
    let package = versions(registry, &project, &path.name)
        .await?
        .into_iter()
        .find(|p| p.version == path.version)
        .ok_or_else(|| {
            not_found(format!(
                "crate `{}` has no version `{}` in this registry",
                path.name, path.version
            ))
        })?;
    let mut meta = package.metadata.clone();
    let Some(index) = meta.get_mut("index").and_then(Value::as_object_mut) else {
        return Err(ApiError::internal(std::io::Error::other(
            "cargo package without an index line",
        )));
    };
    index.insert("yanked".into(), Value::Bool(yanked));
    // Guarded like a delete (the Registry checks the delete level of the protection
    // rules): a yanked version vanishes for resolvers.
    registry
        .update_package(
            principal,
            &project,
            &package,
            PackageUpdate {
                status: None,
                metadata: Some(meta),
            },
            Guarded::Delete,
        )
        .await
        .map_err(|e| {
            if e.status() == StatusCode::NOT_FOUND {
                not_found("the version was deleted meanwhile")
            } else {
                e
            }
        })?;
    Ok(json(StatusCode::OK, &views::Ok { ok: true }))
}

/// `GET api/v1/crates/{name}/{version}/download` (the `dl` of `config.json`).
pub async fn download(
    req: HttpRequest,
    path: web::Path<VersionPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let project = authorize(&registry, &caller.0, &path.id, Action::ReadPackage).await?;
    metadata::check_name_syntax(&path.name)?;
    let file_name = format!("{}-{}.crate", path.name, path.version);
    let normalized = normalize_name(&path.name);
    let at = FileCoordinates {
        project: project.id,
        format: FORMAT.0,
        normalized_name: &normalized,
        version: &path.version,
        file_name: &file_name,
    };
    serve_newest(
        &registry,
        &req,
        &at,
        Downloadable::All,
        "application/gzip",
        || {
            not_found(format!(
                "crate `{}` has no version `{}` in this registry",
                path.name, path.version
            ))
        },
    )
    .await
}
