//! `DELETE .../nuget/:id/:version` (and `.../nuget/v2/:id/:version`), as `nuget delete`
//! and `dotnet nuget delete` send it: the version is deleted, for Maintainers (and tokens
//! with their rights), past the package protection rules.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use packyard_core::http::PackageCaller;
use packyard_core::policy::Action;
use packyard_core::{ApiError, Registry, RouteClass};

use crate::error::not_found;
use crate::handlers::push::{delete_refusal_reason, principal};
use crate::index;
use crate::version;
use crate::FORMAT;

#[derive(Deserialize)]
pub struct DeletePath {
    pub id: String,
    pub package: String,
    pub version: String,
}

pub async fn delete(
    req: HttpRequest,
    path: web::Path<DeletePath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let principal = principal(&req, &registry, caller).await?;
    let project = registry
        .authorize_project(
            &principal,
            &path.id,
            Action::DeletePackage,
            RouteClass::Package,
        )
        .await
        .map_err(delete_refusal_reason)?;
    let wanted = version::parse(&path.version).map_err(|_| not_found())?;
    let packages = registry
        .packages()
        .packages_by_name(project.id, FORMAT.0, &index::lower_id(&path.package))
        .await?;
    let package = packages
        .iter()
        .find(|p| version::parse(&p.version).is_ok_and(|v| v == wanted))
        .ok_or_else(not_found)?;
    registry
        .delete_package(&principal, &project, package)
        .await
        .map_err(delete_refusal_reason)?;
    Ok(HttpResponse::NoContent().finish())
}
