//! `GET|HEAD /projects/:id` (spec §2.4, <https://docs.gitlab.com/api/projects/#retrieve-a-single-project>)
//! and `POST /projects/:id/ci/job_token`, which mints a CI job token for scripts that publish
//! packages the way a GitLab CI job would (<https://docs.gitlab.com/ci/jobs/ci_job_token/>).

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use packyard_core::http::{json, RestCaller};
use packyard_core::model::{BuildInfo, Namespace};
use packyard_core::policy::Action;
use packyard_core::{ApiError, Registry, RouteClass};

use crate::views::{self, ProjectExtras};

#[derive(Deserialize)]
pub struct ProjectPath {
    id: String,
}

/// Parameters of a small form or JSON body; a larger body is a client mistake.
const PARAMS_BODY_LIMIT: usize = 64 * 1024;

pub async fn show(
    path: web::Path<ProjectPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let project = registry
        .authorize_project(&principal, &path.id, Action::ReadProject, RouteClass::Rest)
        .await?;
    let external_url = registry.config().external_url.as_str();
    let catalog = registry.catalog();
    let (namespace, owner_names) = match project.namespace {
        Namespace::Group(id) => {
            let namespace = match catalog.group_by_id(id).await? {
                Some(group) => views::group_namespace(external_url, &group),
                None => Value::Null,
            };
            // Ancestors come the group first, the top-level group last.
            let names: Vec<String> = catalog
                .group_ancestors(id)
                .await?
                .into_iter()
                .rev()
                .map(|g| g.name)
                .collect();
            (namespace, names)
        }
        Namespace::User(id) => match catalog.user_by_id(id).await? {
            Some(user) => (views::user_namespace(external_url, &user), vec![user.name]),
            None => (Value::Null, Vec::new()),
        },
    };
    let access_level = match principal.user() {
        Some(user) => {
            catalog
                .effective_access_level(user.id, project.id, &today())
                .await?
        }
        None => None,
    };
    let name_with_namespace = owner_names
        .into_iter()
        .chain(std::iter::once(project.name.clone()))
        .collect::<Vec<_>>()
        .join(" / ");
    let extras = ProjectExtras {
        namespace,
        name_with_namespace,
        access_level,
    };
    Ok(json(
        StatusCode::OK,
        &views::project(external_url, &project, extras),
    ))
}

/// Mints a job token carrying the given build (pipeline, job, ref, sha). The caller needs a
/// PAT with `api` and Developer+ on the project, the same as publishing.
pub async fn mint_job_token(
    req: HttpRequest,
    path: web::Path<ProjectPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    if principal.is_anonymous() {
        return Err(ApiError::unauthorized());
    }
    let params = merged_params(&req, body).await?;
    let build = BuildInfo {
        pipeline_id: integer_param(&params, "pipeline_id")?,
        job_id: integer_param(&params, "job_id")?,
        git_ref: string_param(&params, "ref")?,
        sha: string_param(&params, "sha")?,
    };
    let project = registry
        .authorize_project(&principal, &path.id, Action::ReadProject, RouteClass::Rest)
        .await?;
    let (secret, token) = registry.mint_job_token(&principal, &project, build).await?;
    Ok(json(
        StatusCode::CREATED,
        &views::job_token(&secret, &token),
    ))
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// The query string, then a form or JSON body over it (spec §0: clients send parameters in
/// any of the three, python-gitlab often as JSON).
async fn merged_params(
    req: &HttpRequest,
    body: web::Payload,
) -> Result<HashMap<String, Value>, ApiError> {
    let mut params = HashMap::new();
    let pairs = |s: &str| -> Result<Vec<(String, String)>, ApiError> {
        web::Query::<Vec<(String, String)>>::from_query(s)
            .map(web::Query::into_inner)
            .map_err(|_| ApiError::invalid_param("query"))
    };
    for (k, v) in pairs(req.query_string())? {
        params.insert(k, Value::String(v));
    }
    let bytes = match body.to_bytes_limited(PARAMS_BODY_LIMIT).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => {
            return Err(ApiError::bad_request(
                "the request body ended before it was complete",
            ))
        }
        Err(_) => return Err(ApiError::payload_too_large(PARAMS_BODY_LIMIT as u64)),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(params);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/json") {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => params.extend(map),
            _ => return Err(ApiError::bad_request("the body is not a JSON object")),
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::invalid_param("body"))?;
        for (k, v) in pairs(text)? {
            params.insert(k, Value::String(v));
        }
    }
    Ok(params)
}

fn present<'a>(params: &'a HashMap<String, Value>, name: &str) -> Result<&'a Value, ApiError> {
    match params.get(name) {
        None | Some(Value::Null) => Err(ApiError::error(
            StatusCode::BAD_REQUEST,
            format!("{name} is missing"),
        )),
        Some(Value::String(s)) if s.trim().is_empty() => Err(ApiError::error(
            StatusCode::BAD_REQUEST,
            format!("{name} is missing"),
        )),
        Some(v) => Ok(v),
    }
}

fn integer_param(params: &HashMap<String, Value>, name: &str) -> Result<i64, ApiError> {
    let parsed = match present(params, name)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| ApiError::invalid_param(name))
}

fn string_param(params: &HashMap<String, Value>, name: &str) -> Result<String, ApiError> {
    match present(params, name)? {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(ApiError::invalid_param(name)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_params_accept_numbers_and_digit_strings_only() {
        let params: HashMap<String, Value> = [
            ("a", json!(5)),
            ("b", json!("7")),
            ("c", json!("x")),
            ("d", json!("")),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .into();
        assert_eq!(integer_param(&params, "a").unwrap(), 5);
        assert_eq!(integer_param(&params, "b").unwrap(), 7);
        assert_eq!(
            integer_param(&params, "c").unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            integer_param(&params, "d").unwrap_err().to_string(),
            r#"400 Bad Request {"error":"d is missing"}"#
        );
        assert!(integer_param(&params, "e")
            .unwrap_err()
            .to_string()
            .contains("e is missing"));
    }
}
