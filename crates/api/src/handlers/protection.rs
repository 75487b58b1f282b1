//! Package protection rules of a project
//! (<https://docs.gitlab.com/api/project_packages_protection_rules/>):
//! `GET|POST /projects/:id/packages/protection/rules`,
//! `PATCH|DELETE /projects/:id/packages/protection/rules/:rule_id`. Maintainer+.
//!
//! The rules are enforced by the core (`Registry::commit`, `Registry::delete_package`), so
//! they hold for every format, not only for the REST API.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use packyard_core::http::{json as json_response, RestCaller};
use packyard_core::model::{NewProtectionRule, Project, ProtectionLevel};
use packyard_core::policy::Action;
use packyard_core::ports::CatalogError;
use packyard_core::protection::validate_pattern;
use packyard_core::{ApiError, Formats, Principal, Registry, RouteClass};

use crate::handlers::package_params::{invalid, Params};
use crate::views;

#[derive(Deserialize)]
pub struct ProjectPath {
    id: String,
}

#[derive(Deserialize)]
pub struct RulePath {
    id: String,
    rule_id: String,
}

/// GitLab answers a refused rule with 422 and `{"message": {"error": ...}}`.
fn unprocessable(text: impl std::fmt::Display) -> ApiError {
    ApiError::with_body(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({ "message": { "error": text.to_string() } }),
    )
}

fn rule_not_found() -> ApiError {
    ApiError::message(
        StatusCode::NOT_FOUND,
        "404 Package Protection Rule Not Found",
    )
}

async fn authorize(
    registry: &Registry,
    principal: &Principal,
    id: &str,
) -> Result<Project, ApiError> {
    registry
        .authorize_project(principal, id, Action::AdminPackages, RouteClass::Rest)
        .await
}

/// An installed format, named by GitLab's `package_type` or by its id; stored (and shown)
/// as GitLab's `package_type`.
fn package_type(
    params: &Params,
    required: bool,
    formats: &Formats,
) -> Result<Option<String>, ApiError> {
    let value = if required {
        Some(params.required("package_type")?)
    } else {
        params.string("package_type")?
    };
    match value {
        Some(t) => match formats.lookup(&t) {
            Some(f) => Ok(Some(f.gitlab_package_type().to_owned())),
            None => Err(invalid("package_type")),
        },
        None => Ok(None),
    }
}

fn pattern(params: &Params, required: bool) -> Result<Option<String>, ApiError> {
    let value = if required {
        Some(params.required("package_name_pattern")?)
    } else {
        params.string("package_name_pattern")?
    };
    if let Some(p) = &value {
        validate_pattern(p).map_err(|why| unprocessable(format!("Package name pattern {why}")))?;
    }
    Ok(value)
}

/// A level parameter: absent → `None`; `null` or `""` → `Some(None)` (cleared).
fn level(params: &Params, name: &str) -> Result<Option<Option<ProtectionLevel>>, ApiError> {
    if !params.has(name) {
        return Ok(None);
    }
    match params.string(name)? {
        None => Ok(Some(None)),
        Some(s) if s.is_empty() => Ok(Some(None)),
        Some(s) => ProtectionLevel::parse(&s)
            .map(|l| Some(Some(l)))
            .ok_or_else(|| invalid(name)),
    }
}

fn catalog_error(e: CatalogError) -> ApiError {
    match e {
        CatalogError::Conflict(text) => unprocessable(text),
        e => e.into(),
    }
}

const NEEDS_A_LEVEL: &str =
    "A rule must set at least one of minimum_access_level_for_push, minimum_access_level_for_delete";

/// `GET /projects/:id/packages/protection/rules`.
pub async fn list(
    path: web::Path<ProjectPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let project = authorize(&registry, &caller.0, &path.id).await?;
    let rules = registry
        .catalog()
        .protection_rules(project.id, None)
        .await?;
    let body: Vec<Value> = rules.iter().map(views::protection_rule).collect();
    Ok(json_response(StatusCode::OK, &body))
}

/// `POST /projects/:id/packages/protection/rules` → 201.
pub async fn create(
    req: HttpRequest,
    path: web::Path<ProjectPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let project = authorize(&registry, &caller.0, &path.id).await?;
    let params = Params::read(&req, body).await?;
    let package_name_pattern = pattern(&params, true)?.unwrap_or_default();
    let package_type = package_type(&params, true, registry.formats())?.unwrap_or_default();
    let push = level(&params, "minimum_access_level_for_push")?.flatten();
    let delete = level(&params, "minimum_access_level_for_delete")?.flatten();
    if push.is_none() && delete.is_none() {
        return Err(unprocessable(NEEDS_A_LEVEL));
    }
    let rule = registry
        .catalog()
        .create_protection_rule(NewProtectionRule {
            project_id: project.id,
            package_name_pattern,
            package_type,
            minimum_access_level_for_push: push,
            minimum_access_level_for_delete: delete,
        })
        .await
        .map_err(catalog_error)?;
    Ok(json_response(
        StatusCode::CREATED,
        &views::protection_rule(&rule),
    ))
}

/// `PATCH /projects/:id/packages/protection/rules/:rule_id` → 200 with the rule.
pub async fn update(
    req: HttpRequest,
    path: web::Path<RulePath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let project = authorize(&registry, &caller.0, &path.id).await?;
    let rule_id = path.rule_id.parse::<i64>().map_err(|_| rule_not_found())?;
    let params = Params::read(&req, body).await?;
    let mut rule = registry
        .catalog()
        .protection_rules(project.id, None)
        .await?
        .into_iter()
        .find(|r| r.id == rule_id)
        .ok_or_else(rule_not_found)?;
    if let Some(p) = pattern(&params, false)? {
        rule.package_name_pattern = p;
    }
    if let Some(t) = package_type(&params, false, registry.formats())? {
        rule.package_type = t;
    }
    if let Some(l) = level(&params, "minimum_access_level_for_push")? {
        rule.minimum_access_level_for_push = l;
    }
    if let Some(l) = level(&params, "minimum_access_level_for_delete")? {
        rule.minimum_access_level_for_delete = l;
    }
    if rule.minimum_access_level_for_push.is_none()
        && rule.minimum_access_level_for_delete.is_none()
    {
        return Err(unprocessable(NEEDS_A_LEVEL));
    }
    let rule = registry
        .catalog()
        .update_protection_rule(&rule)
        .await
        .map_err(catalog_error)?
        .ok_or_else(rule_not_found)?;
    Ok(json_response(
        StatusCode::OK,
        &views::protection_rule(&rule),
    ))
}

/// `DELETE /projects/:id/packages/protection/rules/:rule_id` → 204.
pub async fn delete(
    path: web::Path<RulePath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let project = authorize(&registry, &caller.0, &path.id).await?;
    let rule_id = path.rule_id.parse::<i64>().map_err(|_| rule_not_found())?;
    if !registry
        .catalog()
        .delete_protection_rule(project.id, rule_id)
        .await?
    {
        return Err(rule_not_found());
    }
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    struct Fake;
    impl packyard_core::PackageFormat for Fake {
        fn id(&self) -> packyard_core::model::FormatId {
            packyard_core::model::FormatId("npm")
        }
        fn display_name(&self) -> &'static str {
            "npm"
        }
        fn normalize_name(&self, name: &str) -> Result<String, packyard_core::FormatError> {
            Ok(name.into())
        }
        fn compare_versions(&self, a: &str, b: &str) -> std::cmp::Ordering {
            a.cmp(b)
        }
        fn configure_project(&self, _cfg: &mut web::ServiceConfig) {}
        fn snippets(
            &self,
            _ctx: &packyard_core::SnippetContext<'_>,
        ) -> Vec<packyard_core::Snippet> {
            Vec::new()
        }
    }

    #[test]
    fn rule_json_has_gitlab_fields_with_null_for_unset_levels() {
        use packyard_core::model::{ProjectId, ProtectionRule};
        let rule = ProtectionRule {
            id: 3,
            project_id: ProjectId(7),
            package_name_pattern: "@acme/*".into(),
            package_type: "npm".into(),
            minimum_access_level_for_push: Some(ProtectionLevel::Maintainer),
            minimum_access_level_for_delete: None,
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(
            views::protection_rule(&rule),
            json!({
                "id": 3, "project_id": 7, "package_name_pattern": "@acme/*",
                "package_type": "npm", "minimum_access_level_for_push": "maintainer",
                "minimum_access_level_for_delete": null,
            })
        );
    }

    #[test]
    fn levels_and_types_are_validated_like_grape() {
        let p = Params::from_json(json!({
            "minimum_access_level_for_push": "owner",
            "minimum_access_level_for_delete": null,
            "package_type": "npm",
        }));
        assert_eq!(
            level(&p, "minimum_access_level_for_push").unwrap(),
            Some(Some(ProtectionLevel::Owner))
        );
        assert_eq!(
            level(&p, "minimum_access_level_for_delete").unwrap(),
            Some(None)
        );
        assert_eq!(level(&p, "absent").unwrap(), None);
        let formats = Formats::new(vec![std::sync::Arc::new(Fake)]);
        assert_eq!(
            package_type(&p, true, &formats).unwrap().as_deref(),
            Some("npm")
        );
        assert!(
            package_type(&p, true, &Formats::default()).is_err(),
            "npm not installed"
        );
        let bad = Params::from_json(json!({
            "minimum_access_level_for_push": "developer",
            "package_type": "apt",
        }));
        assert!(level(&bad, "minimum_access_level_for_push")
            .unwrap_err()
            .to_string()
            .contains("does not have a valid value"));
        assert!(package_type(&bad, true, &formats).is_err());
        assert!(pattern(&Params::from_json(json!({})), true)
            .unwrap_err()
            .to_string()
            .contains("package_name_pattern is missing"));
    }
}
