//! Personal access tokens (<https://docs.gitlab.com/api/personal_access_tokens/>,
//! <https://docs.gitlab.com/api/user_tokens/>, spec §2.2): the admin's
//! `POST /users/:user_id/personal_access_tokens`, and `GET /personal_access_tokens` (filters
//! `user_id`, `revoked`, `state`, `search`, `created_*`, `last_used_*`), `GET`, `DELETE` and
//! `POST .../rotate` on `/personal_access_tokens/:id` and `/personal_access_tokens/self`.
//!
//! GitLab answers a token that is someone else's (or missing) with 401 to non-admins, and
//! 404 only when an admin asks for a missing id; so does Packyard. Secrets appear only in
//! the answers to create and rotate.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use packyard_core::admin::Need;
use packyard_core::http::{json, request_credential, RestCaller};
use packyard_core::model::{PersonalAccessToken, TokenFilter, TokenId, User};
use packyard_core::{ApiError, Principal, Registry};

use super::params::{invalid, listing_response, offset, Params};
use super::users::load_user;
use crate::views;

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// `POST /users/:user_id/personal_access_tokens` (admin).
pub async fn create_for_user(
    req: HttpRequest,
    path: web::Path<String>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    registry.admin_user(&caller.0, Need::Write)?;
    let user = load_user(&registry, &path).await?;
    let params = Params::merged(&req, body).await?;
    let name = params.required("name")?;
    let scopes = params
        .list("scopes")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::error(StatusCode::BAD_REQUEST, "scopes is missing"))?;
    let expires_at = params.date("expires_at")?.flatten();
    if expires_at.as_deref().is_some_and(|d| d < today().as_str()) {
        return Err(ApiError::bad_request("expires_at must not be in the past"));
    }
    let (secret, token) = registry
        .create_personal_access_token(user.id, &name, &scopes, expires_at)
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &views::personal_access_token(&token, &today(), Some(&secret)),
    ))
}

/// `GET /personal_access_tokens`: an admin sees every user's (or `user_id`'s), others
/// only their own.
pub async fn list(
    req: HttpRequest,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Read)?;
    let params = Params::query(&req)?;
    let asked = params.integer("user_id")?;
    let user_id = match (me.is_admin, asked) {
        (true, asked) => asked.map(packyard_core::model::UserId),
        (false, Some(id)) if id != me.id.0 => return Err(ApiError::unauthorized()),
        (false, _) => Some(me.id),
    };
    let active = match params.string("state")?.as_deref() {
        None | Some("") => None,
        Some("active") => Some(true),
        Some("inactive") => Some(false),
        Some(_) => return Err(invalid("state")),
    };
    let page = params.page()?;
    let filter = TokenFilter {
        user_id,
        revoked: params.boolean("revoked")?,
        active,
        today: today(),
        search: params.string("search")?.filter(|s| !s.is_empty()),
        created_after: params.time("created_after")?,
        created_before: params.time("created_before")?,
        last_used_after: params.time("last_used_after")?,
        last_used_before: params.time("last_used_before")?,
    };
    let listing = registry
        .catalog()
        .list_personal_access_tokens(filter, page)
        .await?;
    let day = today();
    Ok(listing_response(
        &req,
        &registry,
        offset(page),
        &listing,
        |t| t.id.0,
        |t| views::personal_access_token(t, &day, None),
    ))
}

/// The token `:id` as `me` may see it: its own, or any for an admin.
async fn visible_token(
    registry: &Registry,
    me: &User,
    raw: &str,
) -> Result<PersonalAccessToken, ApiError> {
    let hidden = || {
        if me.is_admin {
            ApiError::message(StatusCode::NOT_FOUND, "404 Not found")
        } else {
            ApiError::unauthorized()
        }
    };
    let id = raw.parse::<i64>().map_err(|_| hidden())?;
    match registry
        .catalog()
        .personal_access_token_by_id(TokenId(id))
        .await?
    {
        Some(t) if me.is_admin || t.user_id == me.id => Ok(t),
        _ => Err(hidden()),
    }
}

/// The token this request authenticated with.
async fn presented(
    req: &HttpRequest,
    registry: &Registry,
    principal: &Principal,
) -> Result<PersonalAccessToken, ApiError> {
    if !matches!(
        principal,
        Principal::User {
            scopes: Some(_),
            ..
        }
    ) {
        return Err(ApiError::unauthorized());
    }
    let credential = request_credential(req, false).map_err(|_| ApiError::unauthorized())?;
    registry
        .presented_personal_access_token(credential)
        .await?
        .ok_or_else(ApiError::unauthorized)
}

pub async fn show(
    path: web::Path<String>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Read)?;
    let token = visible_token(&registry, me, &path).await?;
    Ok(json(
        StatusCode::OK,
        &views::personal_access_token(&token, &today(), None),
    ))
}

pub async fn show_self(
    req: HttpRequest,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    // Any scope may look at itself.
    let token = presented(&req, &registry, &caller.0).await?;
    Ok(json(
        StatusCode::OK,
        &views::personal_access_token(&token, &today(), None),
    ))
}

async fn rotate_response(
    registry: &Registry,
    old: &PersonalAccessToken,
    params: &Params,
) -> Result<HttpResponse, ApiError> {
    let expires_at = params.date("expires_at")?.flatten();
    let (secret, token) = registry
        .rotate_personal_access_token(old, expires_at)
        .await?;
    Ok(json(
        StatusCode::OK,
        &views::personal_access_token(&token, &today(), Some(&secret)),
    ))
}

pub async fn rotate(
    req: HttpRequest,
    path: web::Path<String>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let params = Params::merged(&req, body).await?;
    let old = visible_token(&registry, me, &path).await?;
    rotate_response(&registry, &old, &params).await
}

/// `POST /personal_access_tokens/self/rotate`: needs scope `api` or `self_rotate`.
pub async fn rotate_self(
    req: HttpRequest,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let old = presented(&req, &registry, &caller.0).await?;
    if !caller.0.has_any_scope(&["api", "self_rotate"]) {
        return Err(ApiError::insufficient_scope());
    }
    let params = Params::merged(&req, body).await?;
    rotate_response(&registry, &old, &params).await
}

pub async fn revoke(
    path: web::Path<String>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let token = visible_token(&registry, me, &path).await?;
    registry
        .catalog()
        .revoke_personal_access_token(token.id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /personal_access_tokens/self`: any scope may revoke itself.
pub async fn revoke_self(
    req: HttpRequest,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let token = presented(&req, &registry, &caller.0).await?;
    registry
        .catalog()
        .revoke_personal_access_token(token.id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
