//! `GET .../nuget/index.json`: the v3 service index of a project or a group.

use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;

use packyard_core::documents::{serve_document, Document};
use packyard_core::http::PackageCaller;
use packyard_core::{ApiError, Registry};

use crate::handlers::{place, ScopePath};
use crate::views::{self, JSON};

pub async fn get(
    req: HttpRequest,
    path: web::Path<ScopePath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let place = place(&req, &registry, &caller.0, &path.id).await?;
    let body = serde_json::to_vec(&views::service_index(&place.base, place.level))
        .map_err(ApiError::internal)?;
    Ok(serve_document(
        &req,
        &Document::of_bytes(Bytes::from(body), JSON)?,
    ))
}
