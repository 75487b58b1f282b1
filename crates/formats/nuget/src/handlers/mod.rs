//! Request handlers, one module per group of endpoints, and what they share: where a read
//! looks (the project, or every project of a group the caller may read) and the absolute
//! base URL its documents link to.

pub mod delete;
pub mod flat;
pub mod push;
pub mod registration;
pub mod search;
pub mod service_index;
pub mod symbols;
pub mod v2;

use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Deserialize;

use packyard_core::documents::{serve_document, DerivedCache};
use packyard_core::model::ProjectId;
use packyard_core::scope::{project_ids, Scope};
use packyard_core::{ApiError, Principal, Registry};

use crate::index::{self, Loaded, PackageIndex};
use crate::views::{Level, JSON};
use crate::NugetConfig;

/// What every handler shares: the settings and the package index cache.
pub struct State {
    pub config: NugetConfig,
    pub indexes: DerivedCache<PackageIndex>,
    /// Each project's symbol files, for the symbol server (`symbols`).
    pub symbols: DerivedCache<symbols::SymbolIndex>,
}

/// The `:id` of the project or group in the path.
#[derive(Deserialize)]
pub struct ScopePath {
    pub id: String,
}

/// A read's place: its level, the projects it reads, its documents' base URL.
pub struct Place {
    pub level: Level,
    pub projects: Vec<ProjectId>,
    /// `{external}/api/v4/projects/:id/packages/nuget` (or the group's), `:id` as the
    /// request spelled it.
    pub base: String,
}

/// The path of the request up to its `/packages/nuget`, as the client sent it.
fn prefix(req: &HttpRequest) -> &str {
    let path = req.path();
    match path.find("/packages/nuget") {
        Some(at) => &path[..at + "/packages/nuget".len()],
        None => path,
    }
}

/// The level of a request: group routes live under `/api/v4/groups/`.
pub fn level(req: &HttpRequest) -> Level {
    if req.path().starts_with("/api/v4/groups/") {
        Level::Group
    } else {
        Level::Project
    }
}

/// The absolute base URL of the request's NuGet endpoints.
pub fn base(req: &HttpRequest, registry: &Registry) -> String {
    registry.url(prefix(req))
}

/// The projects `principal` may read at this request's level, refusing as package routes
/// do (401 with `WWW-Authenticate: Basic` to anonymous callers, 404 for what they may not
/// see).
pub async fn place(
    req: &HttpRequest,
    registry: &Registry,
    principal: &Principal,
    id: &str,
) -> Result<Place, ApiError> {
    let level = level(req);
    let scope = match level {
        Level::Project => Scope::Project(id),
        Level::Group => Scope::Group(id),
    };
    let projects = registry.readable_projects(req, principal, scope).await?;
    Ok(Place {
        level,
        projects: project_ids(&projects),
        base: base(req, registry),
    })
}

/// The index of a package id (any case) at a place.
pub async fn load(
    req: &HttpRequest,
    registry: &Registry,
    state: &State,
    place: &Place,
    id: &str,
) -> Result<Loaded, ApiError> {
    index::load(
        registry,
        &state.indexes,
        req,
        &place.projects,
        &index::lower_id(id),
    )
    .await
}

/// Serves a JSON document derived from a loaded index: from the Registry's document cache
/// under the index's revisions (`key` names the document and its base URL), rendered by
/// `render` only when the cache does not hold it, with conditional GET and HEAD.
pub async fn serve_json(
    req: &HttpRequest,
    registry: &Registry,
    loaded: &Loaded,
    key: &str,
    render: impl FnOnce() -> Result<serde_json::Value, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let doc = registry
        .documents()
        .get_or_build(key, &loaded.revisions, || async move {
            let body = serde_json::to_vec(&render()?).map_err(ApiError::internal)?;
            Ok((Bytes::from(body), JSON.to_owned()))
        })
        .await?;
    Ok(serve_document(req, &doc))
}
