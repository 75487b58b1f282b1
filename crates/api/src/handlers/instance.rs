//! Instance-level endpoints: `GET /version` (spec §0) and `GET /user` (spec §2.1,
//! <https://docs.gitlab.com/api/users/#retrieve-the-current-user>).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

use packyard_core::http::{json, TokenCaller};
use packyard_core::{ApiError, Principal, Registry};

use crate::views;

/// The revision baked in at build time (`PACKYARD_REVISION=$(git rev-parse --short HEAD)`).
const REVISION: &str = match option_env!("PACKYARD_REVISION") {
    Some(r) => r,
    None => "unknown",
};

/// The build's revision, for `/metadata`.
pub fn revision() -> &'static str {
    REVISION
}

/// `major.minor.patch` only: python-gitlab splits the version on dots and expects exactly
/// three parts, so a pre-release suffix or build metadata must not leak in.
pub fn version_string() -> String {
    format!(
        "{}.{}.{}",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH")
    )
}

/// `GET /version`, answered without authentication.
pub async fn version() -> HttpResponse {
    json(
        StatusCode::OK,
        &json!({ "version": version_string(), "revision": REVISION }),
    )
}

/// `GET /user`: the caller behind a personal access token or a CI job token. Deploy tokens
/// carry no user, so they are 401 here, as on GitLab.
pub async fn current_user(
    caller: TokenCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let user = match &caller.0 {
        Principal::Anonymous | Principal::Deploy(_) => return Err(ApiError::unauthorized()),
        p @ Principal::User { user, .. } => {
            if !p.has_any_scope(&["api", "read_api", "read_user"]) {
                return Err(ApiError::insufficient_scope());
            }
            user
        }
        Principal::Job { user, .. } => user,
    };
    Ok(json(
        StatusCode::OK,
        &views::current_user(&registry.config().external_url, user),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_string_has_exactly_three_numeric_parts() {
        let v = version_string();
        let parts: Vec<&str> = v.split('.').collect();
        assert_eq!(parts.len(), 3, "{v}");
        assert!(
            parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
            "{v}"
        );
    }
}
