//! The CI job-token allowlist (<https://docs.gitlab.com/api/project_job_token_scopes/>):
//! `GET|POST /projects/:id/job_token_scope/allowlist` and
//! `DELETE /projects/:id/job_token_scope/allowlist/:target_project_id`.
//!
//! GitLab's inbound allowlist: `target_project_id` names a project whose CI job tokens may
//! then act on `:id` (with the job user's own permissions). Maintainers of `:id` manage it;
//! the added project must be visible to them.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use packyard_core::admin::Need;
use packyard_core::http::{json, RestCaller};
use packyard_core::model::{AccessLevel, ProjectId};
use packyard_core::{ApiError, Registry};

use super::params::{listing_response, offset, Params};
use crate::views;

#[derive(serde::Deserialize)]
pub struct ScopePath {
    id: String,
}

#[derive(serde::Deserialize)]
pub struct EntryPath {
    id: String,
    target_project_id: String,
}

pub async fn list(
    req: HttpRequest,
    path: web::Path<ScopePath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Read)?;
    let (project, _) = registry
        .authorize_project_role(Some(me), &path.id, Some(AccessLevel::Maintainer))
        .await?;
    let page = Params::query(&req)?.page()?;
    let listing = registry
        .catalog()
        .list_job_token_allowlist(project.id, page)
        .await?;
    let base = registry.config().external_url.clone();
    Ok(listing_response(
        &req,
        &registry,
        offset(page),
        &listing,
        |p| p.id.0,
        |p| views::project_basic(&base, p),
    ))
}

pub async fn add(
    req: HttpRequest,
    path: web::Path<ScopePath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let params = Params::merged(&req, body).await?;
    let (project, _) = registry
        .authorize_project_role(Some(me), &path.id, Some(AccessLevel::Maintainer))
        .await?;
    let target = params.required_integer("target_project_id")?;
    let (source, _) = registry
        .authorize_project_role(Some(me), &target.to_string(), None)
        .await?;
    registry
        .catalog()
        .add_job_token_allowlist(project.id, source.id)
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &json!({ "source_project_id": project.id.0, "target_project_id": source.id.0 }),
    ))
}

pub async fn remove(
    path: web::Path<EntryPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let (project, _) = registry
        .authorize_project_role(Some(me), &path.id, Some(AccessLevel::Maintainer))
        .await?;
    let not_found = || ApiError::message(StatusCode::NOT_FOUND, "404 Not found");
    let target = path
        .target_project_id
        .parse::<i64>()
        .map_err(|_| not_found())?;
    if registry
        .catalog()
        .remove_job_token_allowlist(project.id, ProjectId(target))
        .await?
    {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(not_found())
    }
}
