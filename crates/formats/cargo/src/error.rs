//! Errors in the shape cargo prints: `{"errors": [{"detail": "..."}]}`.
//!
//! Cargo shows `detail` after "the remote server responded with an error (status N ...)"
//! for any non-2xx answer of the web API, so every refusal here says what to do next.

use actix_web::http::StatusCode;
use serde_json::json;

use packyard_core::error::PACKAGE_REALM;
use packyard_core::model::Project;
use packyard_core::policy::{Action, Decision, Refusal};
use packyard_core::registry::Stamp;
use packyard_core::{ApiError, Principal, Registry};

use crate::metadata::PublishError;

/// An error cargo prints.
pub fn cargo_error(status: StatusCode, detail: impl std::fmt::Display) -> ApiError {
    ApiError::with_body(
        status,
        json!({ "errors": [{ "detail": detail.to_string() }] }),
    )
}

/// Re-shapes an error from the core (a 413 while staging, a protection refusal) into
/// cargo's body, from its status and client-safe message; a 5xx is left as it is.
pub fn cargo_shape(e: ApiError) -> ApiError {
    e.reshaped(|detail| json!({ "errors": [{ "detail": detail }] }))
}

pub fn not_found(detail: impl std::fmt::Display) -> ApiError {
    cargo_error(StatusCode::NOT_FOUND, detail)
}

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::TooLarge { .. } => cargo_error(StatusCode::PAYLOAD_TOO_LARGE, e),
            _ => cargo_error(StatusCode::BAD_REQUEST, e),
        }
    }
}

/// Resolves the project `id` and checks `action`, answering refusals in cargo's shape. An
/// anonymous caller gets 401 with `WWW-Authenticate` wherever a token could help: cargo
/// fetches `config.json` without credentials first and retries with its token on 401.
pub async fn authorize(
    registry: &Registry,
    principal: &Principal,
    id: &str,
    action: Action,
) -> Result<Project, ApiError> {
    authorize_at(registry, registry.stamp(), principal, id, action).await
}

/// [`authorize`] under the request's stamp (`Registry::request_stamp`).
pub async fn authorize_at(
    registry: &Registry,
    stamp: Stamp,
    principal: &Principal,
    id: &str,
    action: Action,
) -> Result<Project, ApiError> {
    let (project, decision) = registry
        .find_and_decide_at(stamp, principal, id, action)
        .await?;
    match (decision, project) {
        (Decision::Allow, Some(p)) => Ok(p),
        (Decision::Deny(r), p) => Err(refusal(r, principal, action, p.as_ref())),
        (Decision::Allow, None) => Err(not_found("project not found")),
    }
}

/// Checks `action` on a project already resolved, answering refusals in cargo's shape.
pub async fn check(
    registry: &Registry,
    principal: &Principal,
    project: &Project,
    action: Action,
) -> Result<(), ApiError> {
    match registry.decide(principal, project, action).await? {
        Decision::Allow => Ok(()),
        Decision::Deny(r) => Err(refusal(r, principal, action, Some(project))),
    }
}

fn refusal(r: Refusal, principal: &Principal, action: Action, p: Option<&Project>) -> ApiError {
    let path = p.map(|p| p.full_path.as_str()).unwrap_or("");
    match r {
        Refusal::NotVisible | Refusal::Forbidden if principal.is_anonymous() => cargo_error(
            StatusCode::UNAUTHORIZED,
            "this registry needs a token: set CARGO_REGISTRIES_<NAME>_TOKEN or run \
             `cargo login --registry <name>` with a personal access token, deploy token or \
             CI job token",
        )
        .www_authenticate(format!("Basic realm=\"{PACKAGE_REALM}\"")),
        Refusal::NotVisible => not_found("project not found, or your token may not see it"),
        Refusal::Forbidden => cargo_error(
            StatusCode::FORBIDDEN,
            match action {
                Action::PublishPackage => format!(
                    "your token may not publish to {path}: publishing needs the Developer role \
                     or a deploy token with write_package_registry"
                ),
                Action::DeletePackage => {
                    format!("your token may not yank in {path}: yanking needs the Maintainer role")
                }
                _ => format!("your token may not read the packages of {path}"),
            },
        ),
        Refusal::InsufficientScope => cargo_error(
            StatusCode::FORBIDDEN,
            match (principal, action) {
                (Principal::Deploy(_), Action::PublishPackage) => format!(
                    "your token may not publish to {path}: this deploy token lacks the \
                     write_package_registry scope (it may only read)"
                ),
                (Principal::Deploy(_), _) => {
                    "this deploy token lacks the read_package_registry scope".to_owned()
                }
                _ => "the token's scopes do not allow this: a personal access token needs the \
                      api scope (read_api to read only)"
                    .to_owned(),
            },
        ),
        Refusal::RegistryDisabled => cargo_error(
            StatusCode::FORBIDDEN,
            format!("the package registry is disabled for project {path}"),
        ),
    }
}
