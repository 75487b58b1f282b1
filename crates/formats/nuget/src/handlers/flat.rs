//! The flat container (`PackageBaseAddress/3.0.0`): `download/:id/index.json` (every
//! version, lower case) and `download/:id/:version/:file` (the `.nupkg`, the `.nuspec`
//! and the `.snupkg`), with lower-case paths as NuGet requests them; ids and versions
//! compare as NuGet compares them.

use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Deserialize;

use packyard_core::documents::{serve_document, Document};
use packyard_core::http::PackageCaller;
use packyard_core::serve::serve_file;
use packyard_core::{ApiError, Principal, Registry};

use crate::error::not_found;
use crate::handlers::{load, place, serve_json, State};
use crate::index::SNUPKG;
use crate::views::{self, Level};

#[derive(Deserialize)]
pub struct PackagePath {
    pub id: String,
    pub package: String,
}

#[derive(Deserialize)]
pub struct FilePath {
    pub id: String,
    pub package: String,
    pub version: String,
    pub file: String,
}

/// A miss: 404, or 401 to an anonymous caller at group level, so that a client that
/// sends credentials only when challenged retries with them.
pub fn miss(principal: &Principal, level: Level) -> ApiError {
    if principal.is_anonymous() && level == Level::Group {
        ApiError::unauthorized_basic()
    } else {
        not_found()
    }
}

pub async fn versions(
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
    let key = format!("nuget/flat/{}/{}", place.base, loaded.index.lower_id);
    serve_json(&req, &registry, &loaded, &key, || {
        Ok(views::versions(&loaded.index))
    })
    .await
}

pub async fn file(
    req: HttpRequest,
    path: web::Path<FilePath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let principal = &caller.0;
    let place = place(&req, &registry, principal, &path.id).await?;
    let loaded = load(&req, &registry, &state, &place, &path.package).await?;
    let index = &loaded.index;
    let entry = index
        .find(&path.version)
        .ok_or_else(|| miss(principal, place.level))?;
    let file = path.file.to_ascii_lowercase();
    let stem = format!("{}.{}", index.lower_id, entry.lower());
    if file == format!("{stem}.nupkg") {
        return serve_file(
            &registry,
            &req,
            &entry.package,
            &entry.nupkg,
            "application/octet-stream",
        )
        .await;
    }
    if file == format!("{}.nuspec", index.lower_id) || file == format!("{stem}.nuspec") {
        let doc = Document::of_bytes(
            Bytes::from(entry.meta.nuspec_xml.clone()),
            "application/xml; charset=utf-8",
        )?;
        return Ok(serve_document(&req, &doc));
    }
    if file == format!("{stem}{SNUPKG}") {
        if let Some(snupkg) = entry
            .others
            .iter()
            .find(|f| f.file_name.eq_ignore_ascii_case(&file))
        {
            return serve_file(
                &registry,
                &req,
                &entry.package,
                snupkg,
                "application/octet-stream",
            )
            .await;
        }
    }
    Err(miss(principal, place.level))
}
