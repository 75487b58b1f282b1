//! `GET /api/v4/projects/:id/packages/terraform/ping`: a placeholder that authorizes a read of
//! the project through the `Registry` (401 with a challenge, 403 or 404 as for every format)
//! and answers JSON. Replace it with the package manager's endpoints.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use packyard_core::http::PackageCaller;
use packyard_core::policy::Action;
use packyard_core::{ApiError, Registry, RouteClass};

use crate::views;

#[derive(Deserialize)]
pub struct ProjectPath {
    id: String,
}

pub async fn ping(
    path: web::Path<ProjectPath>,
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
    Ok(packyard_core::http::json(
        StatusCode::OK,
        &views::ping(&project),
    ))
}
