//! `GET /-/whoami` (`npm whoami`): the name of the user or deploy token behind the request.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::json;

use packyard_core::{ApiError, Principal};

use super::Ctx;
use crate::error::npm_error;

pub async fn whoami(ctx: &Ctx) -> Result<HttpResponse, ApiError> {
    let username = match &ctx.principal {
        Principal::Anonymous => {
            return Err(npm_error(
                StatusCode::UNAUTHORIZED,
                "Unauthorized: set _authToken for this registry in .npmrc",
            ))
        }
        Principal::User { user, .. } | Principal::Job { user, .. } => user.username.clone(),
        Principal::Deploy(t) => t.username.clone(),
    };
    Ok(packyard_core::http::json(
        StatusCode::OK,
        &json!({ "username": username }),
    ))
}
