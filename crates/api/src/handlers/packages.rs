//! The Packages API of one project (spec §3, <https://docs.gitlab.com/api/packages/>):
//! list, show and delete packages, list and delete their files.
//!
//! Deleting removes rows only; the blobs they pointed at are removed later by `gc`, once no
//! row references them (the same blob may back files of other packages).

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use packyard_core::http::{json, RestCaller};
use packyard_core::model::{
    Package, PackageBuildInfo, PackageFileId, PackageFilter, PackageId, PackageOrder,
    PackageStatus, Project, User, UserId,
};
use packyard_core::pagination::{self, page_from};
use packyard_core::policy::Action;
use packyard_core::{gitlab_json, ApiError, Principal, Registry, RouteClass};

use crate::handlers::query_without_paging;
use crate::views::{self, PackageExtras};

/// GitLab's package types (spec §3); `package_type` must be one of them.
const PACKAGE_TYPES: &[&str] = &[
    "maven",
    "npm",
    "conan",
    "nuget",
    "pypi",
    "composer",
    "generic",
    "golang",
    "debian",
    "rubygems",
    "helm",
    "terraform_module",
    "rpm",
    "ml_model",
];

#[derive(Deserialize)]
pub struct ProjectPath {
    id: String,
}

#[derive(Deserialize)]
pub struct PackagePath {
    id: String,
    package_id: String,
}

#[derive(Deserialize)]
pub struct PackageFilePath {
    id: String,
    package_id: String,
    file_id: String,
}

#[derive(Deserialize)]
pub struct ListQuery {
    package_type: Option<String>,
    package_name: Option<String>,
    package_version: Option<String>,
    /// Accepted for compatibility; versionless packages do not exist here.
    #[allow(dead_code)]
    include_versionless: Option<String>,
    status: Option<String>,
    order_by: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
    per_page: Option<String>,
}

fn invalid_value(param: &str) -> ApiError {
    ApiError::error(
        StatusCode::BAD_REQUEST,
        format!("{param} does not have a valid value"),
    )
}

fn package_not_found() -> ApiError {
    ApiError::not_found("Package")
}

/// A package id that is not an integer names no package: 404, as GitLab answers.
fn parse_id(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok()
}

fn filter_from(q: &ListQuery) -> Result<(PackageFilter, PackageOrder, bool), ApiError> {
    let non_empty = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let format = non_empty(&q.package_type);
    if format
        .as_deref()
        .is_some_and(|t| !PACKAGE_TYPES.contains(&t))
    {
        return Err(invalid_value("package_type"));
    }
    let status = match non_empty(&q.status) {
        None => None,
        Some(s) => Some(PackageStatus::parse(&s).ok_or_else(|| invalid_value("status"))?),
    };
    let order = match q.order_by.as_deref() {
        None | Some("") | Some("created_at") => PackageOrder::CreatedAt,
        Some("name") => PackageOrder::Name,
        Some("version") => PackageOrder::Version,
        Some("type") => PackageOrder::Type,
        Some(_) => return Err(invalid_value("order_by")),
    };
    let descending = match q.sort.as_deref() {
        None | Some("") | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(invalid_value("sort")),
    };
    let filter = PackageFilter {
        format,
        name_contains: non_empty(&q.package_name),
        version: non_empty(&q.package_version),
        status,
        normalized_name: None,
    };
    Ok((filter, order, descending))
}

/// The absolute URL of this request without paging, for the `Link` header.
fn link_base(registry: &Registry, req: &HttpRequest) -> String {
    let base = registry.url(req.path());
    match query_without_paging(req.query_string()) {
        q if q.is_empty() => base,
        q => format!("{base}?{q}"),
    }
}

fn paged(body: &Value, headers: Vec<(&'static str, String)>) -> HttpResponse {
    let mut resp = json(StatusCode::OK, body);
    for (name, value) in headers {
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&value) {
            resp.headers_mut()
                .insert(actix_web::http::header::HeaderName::from_static(name), v);
        }
    }
    resp
}

/// Loads what the package view needs (tags, build infos, their users) and renders it.
/// `users` caches users across the packages of one response.
async fn package_json(
    registry: &Registry,
    project: &Project,
    can_delete: bool,
    pkg: &Package,
    users: &mut HashMap<UserId, User>,
) -> Result<Value, ApiError> {
    let catalog = registry.catalog();
    let tags = catalog.package_tags(pkg.id).await?;
    let builds = catalog.package_build_infos(pkg.id).await?;
    load_users(registry, &builds, users).await?;
    let extras = PackageExtras {
        project,
        tags: &tags,
        builds: &builds,
        users,
        can_delete,
    };
    Ok(views::package(
        &registry.config().external_url,
        pkg,
        &extras,
    ))
}

/// Adds the users behind `builds` that `users` does not hold yet.
async fn load_users(
    registry: &Registry,
    builds: &[PackageBuildInfo],
    users: &mut HashMap<UserId, User>,
) -> Result<(), ApiError> {
    for id in builds.iter().filter_map(|b| b.user_id) {
        if let Entry::Vacant(slot) = users.entry(id) {
            if let Some(user) = registry.catalog().user_by_id(id).await? {
                slot.insert(user);
            }
        }
    }
    Ok(())
}

async fn can_delete(
    registry: &Registry,
    principal: &Principal,
    project: &Project,
) -> Result<bool, ApiError> {
    Ok(registry
        .decide(principal, project, Action::DeletePackage)
        .await?
        .is_allowed())
}

/// `GET /projects/:id/packages`.
pub async fn list(
    req: HttpRequest,
    path: web::Path<ProjectPath>,
    query: web::Query<ListQuery>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let project = registry
        .authorize_project(&principal, &path.id, Action::ReadPackage, RouteClass::Rest)
        .await?;
    let (filter, order, descending) = filter_from(&query)?;
    let page = page_from(query.page.as_deref(), query.per_page.as_deref())?;
    let (rows, total) = registry
        .catalog()
        .list_packages(&[project.id], &filter, order, descending, page)
        .await?;
    let deletable = can_delete(&registry, &principal, &project).await?;
    let mut users = HashMap::new();
    let mut items = Vec::with_capacity(rows.len());
    for pkg in &rows {
        items.push(package_json(&registry, &project, deletable, pkg, &mut users).await?);
    }
    let headers = pagination::headers(page, total, &link_base(&registry, &req));
    Ok(paged(&Value::Array(items), headers))
}

/// The package `raw_id` of `project`, if it is in one of the statuses `visible` accepts.
async fn find_package(
    registry: &Registry,
    project: &Project,
    raw_id: &str,
    visible: fn(PackageStatus) -> bool,
) -> Result<Package, ApiError> {
    let id = parse_id(raw_id).ok_or_else(package_not_found)?;
    match registry
        .catalog()
        .package_by_id(project.id, PackageId(id))
        .await?
    {
        Some(pkg) if visible(pkg.status) => Ok(pkg),
        _ => Err(package_not_found()),
    }
}

/// `GET /projects/:id/packages/:package_id`: the package and its other `versions`.
pub async fn show(
    path: web::Path<PackagePath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let project = registry
        .authorize_project(&principal, &path.id, Action::ReadPackage, RouteClass::Rest)
        .await?;
    let pkg = find_package(
        &registry,
        &project,
        &path.package_id,
        PackageStatus::detailed,
    )
    .await?;
    let deletable = can_delete(&registry, &principal, &project).await?;
    let mut users = HashMap::new();
    let mut body = package_json(&registry, &project, deletable, &pkg, &mut users).await?;

    let catalog = registry.catalog();
    let mut versions = Vec::new();
    for other in catalog
        .packages_by_name(project.id, &pkg.format, &pkg.normalized_name)
        .await?
    {
        // GitLab lists the other *displayable* versions of the same name and type.
        if other.id == pkg.id || other.version == pkg.version || !other.status.listed_by_default() {
            continue;
        }
        let tags = catalog.package_tags(other.id).await?;
        let builds = catalog.package_build_infos(other.id).await?;
        load_users(&registry, &builds, &mut users).await?;
        let extras = PackageExtras {
            project: &project,
            tags: &tags,
            builds: &builds,
            users: &users,
            can_delete: deletable,
        };
        versions.push(views::package_version(
            &registry.config().external_url,
            &other,
            &extras,
        ));
    }
    if let Some(obj) = body.as_object_mut() {
        obj.insert("versions".into(), Value::Array(versions));
    }
    Ok(json(StatusCode::OK, &body))
}

/// `DELETE /projects/:id/packages/:package_id` → 204. Maintainer+; 403 is checked before the
/// package is looked up, as GitLab does.
pub async fn delete(
    path: web::Path<PackagePath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let project = registry
        .authorize_project(
            &principal,
            &path.id,
            Action::DeletePackage,
            RouteClass::Rest,
        )
        .await?;
    let pkg = find_package(&registry, &project, &path.package_id, |s| {
        s != PackageStatus::PendingDestruction
    })
    .await?;
    if !registry.catalog().delete_package(pkg.id).await? {
        return Err(package_not_found());
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /projects/:id/packages/:package_id/package_files` (offset-paginated).
pub async fn files(
    req: HttpRequest,
    path: web::Path<PackagePath>,
    query: web::Query<PageQuery>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let project = registry
        .authorize_project(&principal, &path.id, Action::ReadPackage, RouteClass::Rest)
        .await?;
    let pkg = find_package(
        &registry,
        &project,
        &path.package_id,
        PackageStatus::listed_by_default,
    )
    .await?;
    let page = page_from(query.page.as_deref(), query.per_page.as_deref())?;
    let (rows, total) = registry.catalog().package_files(pkg.id, page).await?;
    let items: Vec<Value> = rows.iter().map(gitlab_json::package_file).collect();
    let headers = pagination::headers(page, total, &link_base(&registry, &req));
    Ok(paged(&Value::Array(items), headers))
}

/// `DELETE /projects/:id/packages/:package_id/package_files/:package_file_id` → 204.
pub async fn delete_file(
    path: web::Path<PackageFilePath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let project = registry
        .authorize_project(
            &principal,
            &path.id,
            Action::DeletePackage,
            RouteClass::Rest,
        )
        .await?;
    let pkg = find_package(
        &registry,
        &project,
        &path.package_id,
        PackageStatus::listed_by_default,
    )
    .await?;
    let file_not_found = || ApiError::message(StatusCode::NOT_FOUND, "404 Not found");
    let file_id = parse_id(&path.file_id).ok_or_else(file_not_found)?;
    if !registry
        .catalog()
        .delete_package_file(pkg.id, PackageFileId(file_id))
        .await?
    {
        return Err(file_not_found());
    }
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> ListQuery {
        let qs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        web::Query::<ListQuery>::from_query(&qs.join("&"))
            .unwrap()
            .into_inner()
    }

    #[test]
    fn list_parameters_are_validated_like_gitlab() {
        let err = |pairs: &[(&str, &str)]| filter_from(&query(pairs)).err().unwrap().to_string();
        assert!(err(&[("order_by", "size")]).contains("order_by does not have a valid value"));
        assert!(err(&[("sort", "up")]).contains("sort does not have a valid value"));
        assert!(err(&[("status", "gone")]).contains("status does not have a valid value"));
        assert!(
            err(&[("package_type", "cargo")]).contains("package_type does not have a valid value")
        );
        let (f, o, d) = filter_from(&query(&[
            ("order_by", "name"),
            ("sort", "desc"),
            ("status", "hidden"),
        ]))
        .unwrap();
        assert_eq!(
            (o, d, f.status),
            (PackageOrder::Name, true, Some(PackageStatus::Hidden))
        );
    }
}
