//! `GET|PUT /groups/:id/packages/settings`: a group's package settings, a REST extension
//! carrying the fields of GitLab's GraphQL `PackageSettings` in snake case
//! (`<format>_duplicates_allowed`, `<format>_duplicate_exception_regex`;
//! <https://docs.gitlab.com/api/graphql/reference/#packagesettings>). Group Owner or admin.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use packyard_core::cleanup::validate_exception_regex;
use packyard_core::http::{json as json_response, RestCaller};
use packyard_core::model::{AccessLevel, Group, Visibility};
use packyard_core::{ApiError, Principal, Registry};

use crate::handlers::package_params::Params;

#[derive(Deserialize)]
pub struct GroupPath {
    id: String,
}

/// The group `id` when `principal` is its Owner (or an admin). Others get 404 when the group
/// is hidden from them, 403 when they can see it; anonymous callers 401 on a public group.
async fn authorize_owner(
    registry: &Registry,
    principal: &Principal,
    id: &str,
    write: bool,
) -> Result<Group, ApiError> {
    let group = registry
        .find_group(id)
        .await?
        .ok_or_else(|| ApiError::not_found("Group"))?;
    let user = match principal {
        Principal::Anonymous => {
            return Err(if group.visibility == Visibility::Public {
                ApiError::unauthorized()
            } else {
                ApiError::not_found("Group")
            })
        }
        // Deploy and job tokens cannot manage settings.
        Principal::Deploy(_) | Principal::Job { .. } => return Err(ApiError::forbidden()),
        Principal::User { user, .. } => user,
    };
    let scopes: &[&str] = if write {
        &["api"]
    } else {
        &["api", "read_api"]
    };
    if !principal.has_any_scope(scopes) {
        return Err(ApiError::insufficient_scope());
    }
    if user.is_admin {
        return Ok(group);
    }
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let level = registry
        .catalog()
        .effective_group_access_level(user.id, group.id, &today)
        .await?;
    match level {
        Some(l) if l >= AccessLevel::Owner => Ok(group),
        Some(_) => Err(ApiError::forbidden()),
        None if group.visibility != Visibility::Private => Err(ApiError::forbidden()),
        None => Err(ApiError::not_found("Group")),
    }
}

fn field_error(field: &str, text: &str) -> ApiError {
    ApiError::with_body(
        StatusCode::BAD_REQUEST,
        json!({ "message": { field: [text] } }),
    )
}

/// `GET /groups/:id/packages/settings`.
pub async fn show(
    path: web::Path<GroupPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let group = authorize_owner(&registry, &caller.0, &path.id, false).await?;
    let settings = registry.namespace_package_settings(&group).await?;
    Ok(json_response(StatusCode::OK, &settings.to_json()))
}

/// `PUT /groups/:id/packages/settings`: sets the fields given, leaves the others, answers
/// 200 with every field. Unknown fields are ignored, as GitLab does.
pub async fn update(
    req: HttpRequest,
    path: web::Path<GroupPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let group = authorize_owner(&registry, &caller.0, &path.id, true).await?;
    let params = Params::read(&req, body).await?;
    let mut settings = registry.namespace_package_settings(&group).await?;
    for (format, setting) in settings.formats.iter_mut() {
        if let Some(allowed) = params.boolean(&format!("{format}_duplicates_allowed"))? {
            setting.allowed = allowed;
        }
        let field = format!("{format}_duplicate_exception_regex");
        if let Some(re) = params.string(&field)? {
            validate_exception_regex(&re).map_err(|why| field_error(&field, why))?;
            setting.exception_regex = re;
        }
    }
    registry
        .set_namespace_package_settings(&group, &settings)
        .await?;
    Ok(json_response(StatusCode::OK, &settings.to_json()))
}
