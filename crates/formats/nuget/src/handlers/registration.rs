//! Registrations (`RegistrationsBaseUrl`): `metadata/:id/index.json` (pages inlined up to
//! the page size, linked above it), `metadata/:id/page/:lower/:upper.json` and
//! `metadata/:id/:version.json`. Each is rendered from the package index and cached in
//! the Registry's document cache under the index's revisions and its base URL.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use packyard_core::http::PackageCaller;
use packyard_core::{ApiError, Registry};

use crate::handlers::flat::{miss, PackagePath};
use crate::handlers::{load, place, serve_json, State};
use crate::views;

#[derive(Deserialize)]
pub struct PagePath {
    pub id: String,
    pub package: String,
    pub lower: String,
    pub upper: String,
}

#[derive(Deserialize)]
pub struct LeafPath {
    pub id: String,
    pub package: String,
    pub version: String,
}

fn page_size(state: &State) -> usize {
    usize::try_from(state.config.registration_page_size).unwrap_or(usize::MAX)
}

pub async fn index(
    req: HttpRequest,
    path: web::Path<PackagePath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let principal = &caller.0;
    let place = place(&req, &registry, principal, &path.id).await?;
    let loaded = load(&req, &registry, &state, &place, &path.package).await?;
    if loaded.index.is_empty() {
        return Err(miss(principal, place.level));
    }
    let size = page_size(&state);
    let key = format!(
        "nuget/registration/{size}/{}/{}",
        place.base, loaded.index.lower_id
    );
    serve_json(&req, &registry, &loaded, &key, || {
        Ok(views::registration_index(&place.base, &loaded.index, size))
    })
    .await
}

pub async fn page(
    req: HttpRequest,
    path: web::Path<PagePath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let principal = &caller.0;
    let place = place(&req, &registry, principal, &path.id).await?;
    let loaded = load(&req, &registry, &state, &place, &path.package).await?;
    let size = page_size(&state);
    let (lower, upper) = (
        path.lower.to_ascii_lowercase(),
        path.upper.to_ascii_lowercase(),
    );
    // Whether the page exists is a look at its bounds; its items are rendered only when
    // the cache does not hold it.
    if !views::has_registration_page(&loaded.index, size, &lower, &upper) {
        return Err(miss(principal, place.level));
    }
    let key = format!(
        "nuget/page/{size}/{}/{}/{lower}/{upper}",
        place.base, loaded.index.lower_id
    );
    serve_json(&req, &registry, &loaded, &key, || {
        views::registration_page(&place.base, &loaded.index, size, &lower, &upper)
            .ok_or_else(|| ApiError::internal("a registration page vanished from its index"))
    })
    .await
}

pub async fn leaf(
    req: HttpRequest,
    path: web::Path<LeafPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let principal = &caller.0;
    let place = place(&req, &registry, principal, &path.id).await?;
    let loaded = load(&req, &registry, &state, &place, &path.package).await?;
    let entry = loaded
        .index
        .find(&path.version)
        .ok_or_else(|| miss(principal, place.level))?;
    let key = format!(
        "nuget/leaf/{}/{}/{}",
        place.base,
        loaded.index.lower_id,
        entry.lower()
    );
    serve_json(&req, &registry, &loaded, &key, || {
        Ok(views::registration_leaf(&place.base, &loaded.index, entry))
    })
    .await
}
