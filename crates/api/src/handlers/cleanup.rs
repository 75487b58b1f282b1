//! `GET|PUT /projects/:id/packages/cleanup_policy`: the project's package cleanup policy, a
//! REST extension carrying GitLab's GraphQL field `keep_n_duplicated_package_files`
//! (<https://docs.gitlab.com/user/packages/package_registry/reduce_package_registry_storage/#cleanup-policy>).
//! Maintainer+. The policy runs on `packyard serve`'s schedule and with `packyard cleanup`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use packyard_core::cleanup::parse_keep;
use packyard_core::http::{json, RestCaller};
use packyard_core::policy::Action;
use packyard_core::{ApiError, Registry, RouteClass};

use crate::handlers::package_params::{invalid, missing, Params};
use crate::views;

#[derive(Deserialize)]
pub struct ProjectPath {
    id: String,
}

const KEEP: &str = "keep_n_duplicated_package_files";

/// `GET /projects/:id/packages/cleanup_policy`.
pub async fn show(
    path: web::Path<ProjectPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let project = registry
        .authorize_project(&caller.0, &path.id, Action::AdminPackages, RouteClass::Rest)
        .await?;
    let policy = registry.cleanup_policy(&project).await?;
    Ok(json(StatusCode::OK, &views::cleanup_policy(&policy)))
}

/// `PUT /projects/:id/packages/cleanup_policy` with `keep_n_duplicated_package_files`
/// (`all`, 1, 10, 20, 30, 40, 50) → 200 with the policy.
pub async fn update(
    req: HttpRequest,
    path: web::Path<ProjectPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let project = registry
        .authorize_project(&caller.0, &path.id, Action::AdminPackages, RouteClass::Rest)
        .await?;
    let params = Params::read(&req, body).await?;
    let raw = params.string(KEEP)?.ok_or_else(|| missing(KEEP))?;
    let keep = parse_keep(&raw).ok_or_else(|| invalid(KEEP))?;
    let policy = registry.set_cleanup_policy(&project, keep).await?;
    Ok(json(StatusCode::OK, &views::cleanup_policy(&policy)))
}

#[cfg(test)]
mod tests {
    use packyard_core::model::{CleanupPolicy, ProjectId};
    use serde_json::json;

    use crate::views;

    #[test]
    fn policy_json_uses_gitlab_values() {
        let mut p = CleanupPolicy {
            project_id: ProjectId(1),
            keep_n_duplicated_package_files: None,
            next_run_at: None,
            updated_at: 0,
        };
        assert_eq!(
            views::cleanup_policy(&p),
            json!({"keep_n_duplicated_package_files": "all", "next_run_at": null})
        );
        p.keep_n_duplicated_package_files = Some(10);
        p.next_run_at = Some(1_574_825_858_711);
        assert_eq!(
            views::cleanup_policy(&p),
            json!({"keep_n_duplicated_package_files": "10", "next_run_at": "2019-11-27T03:37:38.711Z"})
        );
    }
}
