//! Members of projects and groups (<https://docs.gitlab.com/api/members/>, spec §2.5):
//! `GET|POST .../members`, `GET|PUT|DELETE .../members/:user_id` and `GET .../members/all`
//! (members inherited from the groups above, one per user at the highest level).
//!
//! Anyone who sees the project or group reads its members. Maintainers of a project and
//! Owners of a group manage them; only an Owner grants Owner.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use packyard_core::admin::Need;
use packyard_core::http::{json, RestCaller};
use packyard_core::model::{AccessLevel, MemberSource, User};
use packyard_core::{ApiError, Registry};

use super::params::{listing_response, offset, Params};
use super::users::user_id;
use crate::views;

/// Which kind of `:id` the route names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Project,
    Group,
}

#[derive(serde::Deserialize)]
pub struct SourcePath {
    id: String,
}

#[derive(serde::Deserialize)]
pub struct MemberPath {
    id: String,
    user_id: String,
}

/// Resolves `:id` for the caller; `manage` also checks it may change the members.
async fn source(
    registry: &Registry,
    me: Option<&User>,
    kind: Kind,
    id: &str,
    manage: bool,
) -> Result<(MemberSource, Option<AccessLevel>), ApiError> {
    match kind {
        Kind::Project => {
            let min = manage.then_some(AccessLevel::Maintainer);
            let (p, role) = registry.authorize_project_role(me, id, min).await?;
            Ok((MemberSource::Project(p.id), role))
        }
        Kind::Group => {
            let min = manage.then_some(AccessLevel::Owner);
            let (g, role) = registry.authorize_group(me, id, min).await?;
            Ok((MemberSource::Group(g.id), role))
        }
    }
}

pub async fn list(
    req: HttpRequest,
    path: web::Path<SourcePath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    kind: web::Data<Kind>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.management_user(&caller.0, Need::Read)?;
    let (source, _) = source(&registry, me, **kind, &path.id, false).await?;
    let params = Params::query(&req)?;
    let page = params.page()?;
    let search = params.string("query")?.filter(|s| !s.is_empty());
    let listing = registry
        .catalog()
        .list_members(source, search, page)
        .await?;
    let base = registry.config().external_url.clone();
    Ok(listing_response(
        &req,
        &registry,
        offset(page),
        &listing,
        |m| m.user.id.0,
        |m| views::member(&base, &m.member, &m.user),
    ))
}

/// `GET .../members/all`: direct and inherited members with their effective level.
pub async fn list_all(
    req: HttpRequest,
    path: web::Path<SourcePath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    kind: web::Data<Kind>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.management_user(&caller.0, Need::Read)?;
    let (source, _) = source(&registry, me, **kind, &path.id, false).await?;
    let page = Params::query(&req)?.page()?;
    let sources = registry.member_sources(source).await?;
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let listing = registry
        .catalog()
        .list_inherited_members(sources, &today, page)
        .await?;
    let base = registry.config().external_url.clone();
    Ok(listing_response(
        &req,
        &registry,
        offset(page),
        &listing,
        |m| m.user.id.0,
        |m| views::member(&base, &m.member, &m.user),
    ))
}

pub async fn show(
    path: web::Path<MemberPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    kind: web::Data<Kind>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.management_user(&caller.0, Need::Read)?;
    let (source, _) = source(&registry, me, **kind, &path.id, false).await?;
    let uid = user_id(&path.user_id).map_err(|_| ApiError::not_found("Member"))?;
    let member = registry
        .catalog()
        .member(source, uid)
        .await?
        .ok_or_else(|| ApiError::not_found("Member"))?;
    let user = registry
        .catalog()
        .user_by_id(uid)
        .await?
        .ok_or_else(|| ApiError::not_found("Member"))?;
    Ok(json(
        StatusCode::OK,
        &views::member(&registry.config().external_url, &member, &user),
    ))
}

/// `POST .../members`: `user_id` and `access_level` (10, 20, 30, 40, 50), `expires_at`.
pub async fn create(
    req: HttpRequest,
    path: web::Path<SourcePath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    kind: web::Data<Kind>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let params = Params::merged(&req, body).await?;
    let (source, role) = source(&registry, Some(me), **kind, &path.id, true).await?;
    let uid = params.required_integer("user_id")?;
    let level = params
        .access_level("access_level")?
        .ok_or_else(|| ApiError::error(StatusCode::BAD_REQUEST, "access_level is missing"))?;
    let expires_at = params.date("expires_at")?.flatten();
    let user = registry
        .catalog()
        .user_by_id(packyard_core::model::UserId(uid))
        .await?
        .ok_or_else(|| ApiError::not_found("User"))?;
    let member = registry
        .add_member_as(role, source, user.id, level, expires_at)
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &views::member(&registry.config().external_url, &member, &user),
    ))
}

/// `PUT .../members/:user_id`: `access_level` (required), `expires_at`.
pub async fn update(
    req: HttpRequest,
    path: web::Path<MemberPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    kind: web::Data<Kind>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let params = Params::merged(&req, body).await?;
    let (source, role) = source(&registry, Some(me), **kind, &path.id, true).await?;
    let uid = user_id(&path.user_id).map_err(|_| ApiError::not_found("Member"))?;
    let level = params
        .access_level("access_level")?
        .ok_or_else(|| ApiError::error(StatusCode::BAD_REQUEST, "access_level is missing"))?;
    let current = registry
        .catalog()
        .member(source, uid)
        .await?
        .ok_or_else(|| ApiError::not_found("Member"))?;
    // Only an Owner grants Owner, or changes an Owner.
    let owner_involved = level == AccessLevel::Owner || current.access_level == AccessLevel::Owner;
    if owner_involved && role != Some(AccessLevel::Owner) {
        return Err(ApiError::forbidden());
    }
    let member = registry
        .catalog()
        .update_member(source, uid, level, params.date("expires_at")?)
        .await?
        .ok_or_else(|| ApiError::not_found("Member"))?;
    let user = registry
        .catalog()
        .user_by_id(uid)
        .await?
        .ok_or_else(|| ApiError::not_found("Member"))?;
    Ok(json(
        StatusCode::OK,
        &views::member(&registry.config().external_url, &member, &user),
    ))
}

pub async fn delete(
    path: web::Path<MemberPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    kind: web::Data<Kind>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let (source, role) = source(&registry, Some(me), **kind, &path.id, true).await?;
    let uid = user_id(&path.user_id).map_err(|_| ApiError::not_found("Member"))?;
    let current = registry
        .catalog()
        .member(source, uid)
        .await?
        .ok_or_else(|| ApiError::not_found("Member"))?;
    if current.access_level == AccessLevel::Owner && role != Some(AccessLevel::Owner) {
        return Err(ApiError::forbidden());
    }
    registry.catalog().remove_member(source, uid).await?;
    Ok(HttpResponse::NoContent().finish())
}
