//! `GET|HEAD /projects/:id` (spec §2.4, <https://docs.gitlab.com/api/projects/#retrieve-a-single-project>)
//! and `POST /projects/:id/ci/job_token`, which mints a CI job token for scripts that publish
//! packages the way a GitLab CI job would (<https://docs.gitlab.com/ci/jobs/ci_job_token/>),
//! with `DELETE` on the same path for the job to end its own token.

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use packyard_core::admin::{Need, ProjectParams};
use packyard_core::http::{json, request_credential, RestCaller, TokenCaller};
use packyard_core::model::{
    AccessLevel, BuildInfo, Group, GroupId, ListOrder, Listing, Namespace, Paging, Project,
    ProjectFilter, ProjectUpdate, RegistryAccess, User, UserId, Visibility,
};
use packyard_core::policy::Action;
use packyard_core::{ApiError, Principal, Registry, RouteClass};

use super::params::{invalid, page_response, Params};
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
    let access_level = match principal.user() {
        Some(user) => {
            registry
                .catalog()
                .effective_access_level(user.id, project.id, &today())
                .await?
        }
        None => None,
    };
    let mut names = Namespaces::default();
    let view = names
        .project_json(&registry, &project, access_level, false)
        .await?;
    Ok(json(StatusCode::OK, &view))
}

/// Namespaces (and the names above them) looked up once per request, for project and
/// group views in listings.
#[derive(Default)]
pub(crate) struct Namespaces {
    groups: HashMap<GroupId, Option<Group>>,
    users: HashMap<UserId, Option<User>>,
}

impl Namespaces {
    pub(crate) async fn group(
        &mut self,
        registry: &Registry,
        id: GroupId,
    ) -> Result<Option<Group>, ApiError> {
        if let Some(g) = self.groups.get(&id) {
            return Ok(g.clone());
        }
        let g = registry.catalog().group_by_id(id).await?;
        self.groups.insert(id, g.clone());
        Ok(g)
    }

    /// Names of the group's ancestors, top-level first (not the group itself).
    pub(crate) async fn ancestor_names(
        &mut self,
        registry: &Registry,
        group: &Group,
    ) -> Result<Vec<String>, ApiError> {
        let mut names = Vec::new();
        let mut next = group.parent_id;
        // GitLab nests at most 20 levels; the bound stops a corrupt cycle.
        for _ in 0..100 {
            let Some(id) = next else { break };
            match self.group(registry, id).await? {
                Some(g) => {
                    names.push(g.name.clone());
                    next = g.parent_id;
                }
                None => break,
            }
        }
        names.reverse();
        Ok(names)
    }

    /// `GET /projects/:id`'s JSON (spec §2.4); `simple` keeps GitLab's `simple=true` fields.
    pub(crate) async fn project_json(
        &mut self,
        registry: &Registry,
        project: &Project,
        access_level: Option<AccessLevel>,
        simple: bool,
    ) -> Result<Value, ApiError> {
        let external_url = registry.config().external_url.as_str();
        let (namespace, owner_names) = match project.namespace {
            Namespace::Group(id) => match self.group(registry, id).await? {
                Some(group) => {
                    let mut names = self.ancestor_names(registry, &group).await?;
                    names.push(group.name.clone());
                    (views::group_namespace(external_url, &group), names)
                }
                None => (Value::Null, Vec::new()),
            },
            Namespace::User(id) => {
                let user = match self.users.get(&id) {
                    Some(u) => u.clone(),
                    None => {
                        let u = registry.catalog().user_by_id(id).await?;
                        self.users.insert(id, u.clone());
                        u
                    }
                };
                match user {
                    Some(user) => (views::user_namespace(external_url, &user), vec![user.name]),
                    None => (Value::Null, Vec::new()),
                }
            }
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
        let mut v = views::project(external_url, project, extras);
        if simple {
            if let Value::Object(map) = &mut v {
                map.retain(|k, _| SIMPLE_FIELDS.contains(&k.as_str()));
            }
        }
        Ok(v)
    }
}

/// The fields GitLab keeps with `simple=true`.
const SIMPLE_FIELDS: &[&str] = &[
    "id",
    "name",
    "name_with_namespace",
    "path",
    "path_with_namespace",
    "description",
    "created_at",
    "default_branch",
    "tag_list",
    "topics",
    "web_url",
    "namespace",
    "last_activity_at",
];

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
    // The job token is tied to the personal access token this request came with: it ends
    // when that one is revoked or expires.
    let minted_with = match &principal {
        Principal::User {
            scopes: Some(_), ..
        } => {
            let credential =
                request_credential(&req, false).map_err(|_| ApiError::unauthorized())?;
            Some(
                registry
                    .presented_personal_access_token(credential)
                    .await?
                    .ok_or_else(ApiError::unauthorized)?,
            )
        }
        _ => None,
    };
    let (secret, token) = registry
        .mint_job_token(&principal, &project, build, minted_with.as_ref())
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &views::job_token(&secret, &token),
    ))
}

/// `DELETE /projects/:id/ci/job_token`: a CI job ends its own job token when it finishes
/// (GitLab ends `CI_JOB_TOKEN` with the job). Authenticated by that job token (`JOB-TOKEN`,
/// `?job_token=`, `Authorization: Bearer`); `:id` is the token's own project. 204, and the
/// token is refused from then on.
pub async fn revoke_job_token(
    path: web::Path<ProjectPath>,
    caller: TokenCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let Principal::Job { token, .. } = &caller.0 else {
        return Err(ApiError::message(
            StatusCode::UNAUTHORIZED,
            "401 Unauthorized - only a CI job token can revoke itself",
        ));
    };
    let project = registry
        .find_project(&path.id)
        .await?
        .ok_or_else(ApiError::project_not_found)?;
    if project.id != token.project_id {
        return Err(ApiError::message(
            StatusCode::FORBIDDEN,
            "403 Forbidden - a job token revokes itself under its own project only",
        ));
    }
    registry.catalog().delete_job_token(token.id).await?;
    Ok(HttpResponse::NoContent().finish())
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

// ---- management: GET|POST /projects, PUT|DELETE /projects/:id (spec §2.4,
// <https://docs.gitlab.com/api/projects/>)

const PROJECT_ORDERS: &[(&str, ListOrder)] = &[
    ("created_at", ListOrder::CreatedAt),
    ("id", ListOrder::Id),
    ("name", ListOrder::Name),
    ("path", ListOrder::Path),
    // Packyard has no activity separate from creation.
    ("updated_at", ListOrder::CreatedAt),
    ("last_activity_at", ListOrder::CreatedAt),
];

/// A page of projects as JSON, each with the caller's access level.
pub(crate) async fn projects_page(
    req: &HttpRequest,
    registry: &Registry,
    me: Option<&User>,
    listing: Listing<Project>,
    paging: Paging,
    simple: bool,
) -> Result<HttpResponse, ApiError> {
    let mut names = Namespaces::default();
    let mut items = Vec::with_capacity(listing.items.len());
    for project in &listing.items {
        let level = match me {
            Some(u) => registry.project_role(Some(u), project).await?,
            None => None,
        };
        items.push(names.project_json(registry, project, level, simple).await?);
    }
    let last = listing.items.last().map(|p| p.id.0);
    Ok(page_response(
        req,
        registry,
        paging,
        listing.total,
        last,
        items,
    ))
}

/// `GET /projects`: every project the caller may see (`membership`, `owned`, `search`,
/// `visibility`, `order_by`, `sort`, `simple`, keyset pages on id).
pub async fn list(
    req: HttpRequest,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.management_user(&caller.0, Need::Read)?;
    let params = Params::query(&req)?;
    let options = params.list_options(PROJECT_ORDERS, true, true)?;
    let owned = params.boolean("owned")?.unwrap_or(false);
    let membership = params.boolean("membership")?.unwrap_or(false);
    let mut reach = registry.reach(me, owned || membership).await?;
    if owned {
        // Projects of the caller's own namespace.
        reach.project_ids.clear();
        reach.group_ids.clear();
        reach.owner = me.map(|u| u.id);
    }
    let filter = ProjectFilter {
        reach,
        search: params.string("search")?.filter(|s| !s.is_empty()),
        visibility: params.visibility("visibility")?,
        ..ProjectFilter::default()
    };
    let listing = registry.catalog().list_projects(filter, options).await?;
    let simple = params.boolean("simple")?.unwrap_or(false);
    projects_page(&req, &registry, me, listing, options.paging, simple).await
}

/// GitLab's path from a name: lower case, runs of other characters as one `-`.
fn path_from_name(name: &str) -> String {
    let mut path = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '.') {
            path.push(c.to_ascii_lowercase());
        } else if !path.ends_with('-') {
            path.push('-');
        }
    }
    path.trim_matches(|c| c == '-' || c == '.').to_owned()
}

fn registry_access_param(params: &Params) -> Result<Option<RegistryAccess>, ApiError> {
    if let Some(s) = params.string("package_registry_access_level")? {
        return RegistryAccess::parse(&s)
            .map(Some)
            .ok_or_else(|| invalid("package_registry_access_level"));
    }
    Ok(params.boolean("packages_enabled")?.map(|on| {
        if on {
            RegistryAccess::Enabled
        } else {
            RegistryAccess::Disabled
        }
    }))
}

/// `POST /projects`: `name` and/or `path`; `namespace_id` (a group id or path) or the
/// caller's personal namespace; `package_registry_access_level` takes `public` too
/// ("allow anyone to pull", spec §6.1).
pub async fn create(
    req: HttpRequest,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let params = Params::merged(&req, body).await?;
    let name = params.string("name")?.filter(|s| !s.trim().is_empty());
    let path = params.string("path")?.filter(|s| !s.trim().is_empty());
    let (name, path) = match (name, path) {
        (Some(n), Some(p)) => (n, p),
        (Some(n), None) => {
            let p = path_from_name(&n);
            (n, p)
        }
        (None, Some(p)) => (p.clone(), p),
        (None, None) => {
            return Err(ApiError::error(
                StatusCode::BAD_REQUEST,
                "name, path are missing, at least one parameter must be provided",
            ))
        }
    };
    let group = match params
        .string("namespace_id")?
        .or(params.string("namespace")?)
    {
        Some(ns) if !ns.trim().is_empty() => {
            let group = registry
                .find_group(&ns)
                .await?
                .ok_or_else(|| ApiError::not_found("Namespace"))?;
            // A group the caller cannot see does not exist for it.
            registry
                .authorize_group(Some(me), &group.id.0.to_string(), None)
                .await
                .map_err(|_| ApiError::not_found("Namespace"))?;
            Some(group)
        }
        _ => None,
    };
    let project = registry
        .create_project_as(
            me,
            ProjectParams {
                name,
                path,
                group,
                visibility: params
                    .visibility("visibility")?
                    .unwrap_or(Visibility::Private),
                description: params.string("description")?.unwrap_or_default(),
                registry_access: registry_access_param(&params)?.unwrap_or(RegistryAccess::Enabled),
            },
        )
        .await?;
    let level = registry.project_role(Some(me), &project).await?;
    let view = Namespaces::default()
        .project_json(&registry, &project, level, false)
        .await?;
    Ok(json(StatusCode::CREATED, &view))
}

/// `PUT /projects/:id` (Maintainer+): name, path, description, visibility,
/// `package_registry_access_level` / `packages_enabled`.
pub async fn update(
    req: HttpRequest,
    path: web::Path<ProjectPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let params = Params::merged(&req, body).await?;
    let (project, level) = registry
        .authorize_project_role(Some(me), &path.id, Some(AccessLevel::Maintainer))
        .await?;
    let update = ProjectUpdate {
        name: params.string("name")?,
        path: params.string("path")?,
        visibility: params.visibility("visibility")?,
        description: params.string("description")?,
        registry_access: registry_access_param(&params)?,
    };
    let project = registry.update_project_as(&project, update).await?;
    let view = Namespaces::default()
        .project_json(&registry, &project, level, false)
        .await?;
    Ok(json(StatusCode::OK, &view))
}

/// `DELETE /projects/:id` (Owner): 202, and the project, its packages and their file rows
/// are gone at once (blobs follow with `packyard gc`).
pub async fn delete(
    path: web::Path<ProjectPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let (project, _) = registry
        .authorize_project_role(Some(me), &path.id, Some(AccessLevel::Owner))
        .await?;
    registry.catalog().delete_project(project.id).await?;
    Ok(json(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "message": "202 Accepted" }),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_are_derived_from_names_like_gitlab() {
        assert_eq!(path_from_name("My Cool Project!"), "my-cool-project");
        assert_eq!(path_from_name("  tools_v2.0 "), "tools_v2.0");
    }

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
