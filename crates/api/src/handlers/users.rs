//! Users (<https://docs.gitlab.com/api/users/>, spec §2.1): `GET /users` (search,
//! username, keyset pages on id), `GET /users/:id`, and the admin's `POST /users`,
//! `PUT /users/:id` and `DELETE /users/:id` (which takes the user's personal projects, their
//! packages, and the user's tokens and memberships with it), and
//! `POST /users/:id/block` / `unblock` (<https://docs.gitlab.com/api/user_moderation/>).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use packyard_core::admin::{Need, UserParams};
use packyard_core::http::{json, RestCaller};
use packyard_core::model::{ListOrder, User, UserFilter, UserId, UserState, UserUpdate};
use packyard_core::{ApiError, Registry};

use super::params::{listing_response, Params};
use crate::views;

const ORDERS: &[(&str, ListOrder)] = &[
    ("id", ListOrder::Id),
    ("name", ListOrder::Name),
    ("username", ListOrder::Username),
    ("created_at", ListOrder::CreatedAt),
];

/// A user `:id`: digits only, else no such user.
pub(crate) fn user_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(UserId)
        .ok_or_else(|| ApiError::not_found("User"))
}

pub(crate) async fn load_user(registry: &Registry, raw: &str) -> Result<User, ApiError> {
    registry
        .catalog()
        .user_by_id(user_id(raw)?)
        .await?
        .ok_or_else(|| ApiError::not_found("User"))
}

fn sees_everything(caller: Option<&User>, user: &User) -> bool {
    caller.is_some_and(|c| c.is_admin || c.id == user.id)
}

pub async fn list(
    req: HttpRequest,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.management_user(&caller.0, Need::ReadUser)?;
    let params = Params::query(&req)?;
    let options = params.list_options(ORDERS, true, true)?;
    let filter = UserFilter {
        username: params.string("username")?,
        search: params.string("search")?.filter(|s| !s.is_empty()),
        search_email: me.is_some_and(|u| u.is_admin),
        // GitLab's filters: `blocked=true` or `active=true` (a `false` filters nothing).
        blocked: match (params.boolean("blocked")?, params.boolean("active")?) {
            (Some(true), _) => Some(true),
            (_, Some(true)) => Some(false),
            _ => None,
        },
    };
    let listing = registry.catalog().list_users(filter, options).await?;
    let base = registry.config().external_url.clone();
    Ok(listing_response(
        &req,
        &registry,
        options.paging,
        &listing,
        |u| u.id.0,
        |u| views::user(&base, u, sees_everything(me, u)),
    ))
}

pub async fn show(
    path: web::Path<String>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.management_user(&caller.0, Need::ReadUser)?;
    let user = load_user(&registry, &path).await?;
    Ok(json(
        StatusCode::OK,
        &views::user(
            &registry.config().external_url,
            &user,
            sees_everything(me, &user),
        ),
    ))
}

pub async fn create(
    req: HttpRequest,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    registry.admin_user(&caller.0, Need::Write)?;
    let params = Params::merged(&req, body).await?;
    let user = registry
        .create_user_account(UserParams {
            email: params.required("email")?,
            name: params.required("name")?,
            username: params.required("username")?,
            password: params.string("password")?.filter(|p| !p.is_empty()),
            is_admin: params.boolean("admin")?.unwrap_or(false),
        })
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &views::user(&registry.config().external_url, &user, true),
    ))
}

pub async fn update(
    req: HttpRequest,
    path: web::Path<String>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    registry.admin_user(&caller.0, Need::Write)?;
    let params = Params::merged(&req, body).await?;
    let id = load_user(&registry, &path).await?.id;
    let update = UserUpdate {
        username: params.string("username")?,
        name: params.string("name")?,
        email: params.string("email")?,
        is_admin: params.boolean("admin")?,
        password_hash: None,
    };
    let password = params.string("password")?.filter(|p| !p.is_empty());
    let user = registry.update_user_account(id, update, password).await?;
    Ok(json(
        StatusCode::OK,
        &views::user(&registry.config().external_url, &user, true),
    ))
}

pub async fn delete(
    path: web::Path<String>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    registry.admin_user(&caller.0, Need::Write)?;
    let id = user_id(&path)?;
    if registry.catalog().delete_user(id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("User"))
    }
}

/// `POST /users/:id/block` (admin): 201 `true`, also when the user already was blocked.
/// Ends the user's web sessions; its tokens are refused until it is unblocked.
pub async fn block(
    path: web::Path<String>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    set_state(&path, &caller, &registry, UserState::Blocked).await
}

/// `POST /users/:id/unblock` (admin): 201 `true`, also when the user was not blocked.
pub async fn unblock(
    path: web::Path<String>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    set_state(&path, &caller, &registry, UserState::Active).await
}

async fn set_state(
    raw_id: &str,
    caller: &RestCaller,
    registry: &Registry,
    state: UserState,
) -> Result<HttpResponse, ApiError> {
    let admin = registry.admin_user(&caller.0, Need::Write)?;
    registry
        .set_user_state_account(Some(admin), user_id(raw_id)?, state)
        .await?;
    Ok(json(StatusCode::CREATED, &true))
}
