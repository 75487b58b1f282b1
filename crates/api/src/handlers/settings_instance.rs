//! Instance endpoints besides `/version`: `GET /metadata`
//! (<https://docs.gitlab.com/api/metadata/>), `GET /license` (404: Packyard has no license
//! tiers) and the admin's `GET|PUT /application/settings`
//! (<https://docs.gitlab.com/api/settings/>), of which Packyard has
//! `package_registry_allow_anyone_to_pull_option` (spec §6.1).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use packyard_core::admin::Need;
use packyard_core::http::{json, RestCaller};
use packyard_core::model::InstanceSettings;
use packyard_core::{ApiError, Registry};

use super::instance::{revision, version_string};
use super::params::Params;

/// `GET /metadata`, for any signed-in user (scope `read_user` is enough, as on GitLab).
pub async fn metadata(
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    registry.signed_in_user(&caller.0, Need::ReadUser)?;
    Ok(json(
        StatusCode::OK,
        &json!({
            "version": version_string(),
            "revision": revision(),
            "kas": { "enabled": false, "externalUrl": null, "externalK8sProxyUrl": null, "version": null },
            "enterprise": false,
        }),
    ))
}

/// `GET /license`: there are no license tiers to report.
pub async fn license() -> Result<HttpResponse, ApiError> {
    Err(ApiError::message(StatusCode::NOT_FOUND, "404 Not found"))
}

fn settings_view(s: &InstanceSettings) -> serde_json::Value {
    json!({
        "package_registry_allow_anyone_to_pull_option": s.package_registry_allow_anyone_to_pull_option,
        "default_project_visibility": "private",
        "default_group_visibility": "private",
        "signup_enabled": false,
    })
}

pub async fn show(
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    registry.admin_user(&caller.0, Need::Read)?;
    let settings = registry.catalog().instance_settings().await?;
    Ok(json(StatusCode::OK, &settings_view(&settings)))
}

/// `PUT /application/settings`: known settings are applied, others ignored (GitLab has
/// hundreds that mean nothing here).
pub async fn update(
    req: HttpRequest,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    registry.admin_user(&caller.0, Need::Write)?;
    let params = Params::merged(&req, body).await?;
    let mut settings = registry.catalog().instance_settings().await?;
    if let Some(v) = params.boolean("package_registry_allow_anyone_to_pull_option")? {
        settings.package_registry_allow_anyone_to_pull_option = v;
    }
    registry.catalog().set_instance_settings(&settings).await?;
    Ok(json(StatusCode::OK, &settings_view(&settings)))
}
