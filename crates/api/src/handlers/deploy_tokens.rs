//! Deploy tokens (<https://docs.gitlab.com/api/deploy_tokens/>, spec §2.6):
//! `GET|POST /projects/:id/deploy_tokens`, `GET|DELETE /projects/:id/deploy_tokens/:token_id`,
//! the same under `/groups/:id/`, and the admin's `GET /deploy_tokens`.
//!
//! Every GitLab scope name is accepted and echoed, so existing scripts keep working; only
//! `read_package_registry` and `write_package_registry` grant anything here. Maintainers of
//! the project or group manage its tokens. A past `expires_at` is accepted and the token
//! listed with `expired: true`, as GitLab does.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use packyard_core::admin::Need;
use packyard_core::http::{json, RestCaller};
use packyard_core::model::{AccessLevel, DeployTokenOwner, TokenId, User};
use packyard_core::registry::now_millis;
use packyard_core::{ApiError, Registry};

use super::members::Kind;
use super::params::{listing_response, offset, Params};
use crate::views;

#[derive(serde::Deserialize)]
pub struct OwnerPath {
    id: String,
}

#[derive(serde::Deserialize)]
pub struct TokenPath {
    id: String,
    token_id: String,
}

async fn owner(
    registry: &Registry,
    me: &User,
    kind: Kind,
    id: &str,
) -> Result<DeployTokenOwner, ApiError> {
    let min = Some(AccessLevel::Maintainer);
    Ok(match kind {
        Kind::Project => DeployTokenOwner::Project(
            registry
                .authorize_project_role(Some(me), id, min)
                .await?
                .0
                .id,
        ),
        Kind::Group => {
            DeployTokenOwner::Group(registry.authorize_group(Some(me), id, min).await?.0.id)
        }
    })
}

fn active_param(params: &Params) -> Result<bool, ApiError> {
    Ok(params.boolean("active")?.unwrap_or(false))
}

/// `GET /deploy_tokens` (admin).
pub async fn list_all(
    req: HttpRequest,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    registry.admin_user(&caller.0, Need::Read)?;
    let params = Params::query(&req)?;
    let page = params.page()?;
    let listing = registry
        .catalog()
        .list_deploy_tokens(None, active_param(&params)?, page)
        .await?;
    let now = now_millis();
    Ok(listing_response(
        &req,
        &registry,
        offset(page),
        &listing,
        |t| t.id.0,
        |t| views::deploy_token(t, now, None),
    ))
}

pub async fn list(
    req: HttpRequest,
    path: web::Path<OwnerPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    kind: web::Data<Kind>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Read)?;
    let owner = owner(&registry, me, **kind, &path.id).await?;
    let params = Params::query(&req)?;
    let page = params.page()?;
    let listing = registry
        .catalog()
        .list_deploy_tokens(Some(owner), active_param(&params)?, page)
        .await?;
    let now = now_millis();
    Ok(listing_response(
        &req,
        &registry,
        offset(page),
        &listing,
        |t| t.id.0,
        |t| views::deploy_token(t, now, None),
    ))
}

/// The token `:token_id` of this owner, or 404.
async fn owned_token(
    registry: &Registry,
    owner: DeployTokenOwner,
    raw: &str,
) -> Result<packyard_core::model::DeployToken, ApiError> {
    let not_found = || ApiError::message(StatusCode::NOT_FOUND, "404 Deploy Token Not Found");
    let id = raw.parse::<i64>().map_err(|_| not_found())?;
    registry
        .catalog()
        .deploy_token_by_id(TokenId(id))
        .await?
        .filter(|t| t.owner == owner)
        .ok_or_else(not_found)
}

pub async fn show(
    path: web::Path<TokenPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    kind: web::Data<Kind>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Read)?;
    let owner = owner(&registry, me, **kind, &path.id).await?;
    let token = owned_token(&registry, owner, &path.token_id).await?;
    Ok(json(
        StatusCode::OK,
        &views::deploy_token(&token, now_millis(), None),
    ))
}

/// `POST`: `name` and `scopes` (required), `expires_at`, `username`.
pub async fn create(
    req: HttpRequest,
    path: web::Path<OwnerPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    kind: web::Data<Kind>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let params = Params::merged(&req, body).await?;
    let owner = owner(&registry, me, **kind, &path.id).await?;
    let name = params.required("name")?;
    let scopes = params
        .list("scopes")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::error(StatusCode::BAD_REQUEST, "scopes is missing"))?;
    let expires_at = params.time("expires_at")?;
    let username = params.string("username")?.filter(|u| !u.trim().is_empty());
    if let Some(u) = &username {
        if u.len() > 255
            || !u
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.+".contains(c))
        {
            return Err(super::params::invalid("username"));
        }
    }
    let (secret, token) = registry
        .create_deploy_token(owner, &name, username, &scopes, expires_at)
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &views::deploy_token(&token, now_millis(), Some(&secret)),
    ))
}

pub async fn delete(
    path: web::Path<TokenPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    kind: web::Data<Kind>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let owner = owner(&registry, me, **kind, &path.id).await?;
    let token = owned_token(&registry, owner, &path.token_id).await?;
    registry.catalog().delete_deploy_token(token.id).await?;
    Ok(HttpResponse::NoContent().finish())
}
