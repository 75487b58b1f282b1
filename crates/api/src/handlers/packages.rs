//! The Packages API of one project (spec §3, <https://docs.gitlab.com/api/packages/>):
//! list, show and delete packages, list and delete their files.
//!
//! Deleting removes rows only; the blobs they pointed at are removed later by `gc`, once no
//! row references them (the same blob may back files of other packages).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use packyard_core::http::{json, TokenCaller};
use packyard_core::model::{
    Package, PackageBuildInfo, PackageFileId, PackageFilter, PackageId, PackageOrder,
    PackageStatus, PackageTag, Project, User, UserId,
};
use packyard_core::pagination::{self, page_from};
use packyard_core::policy::Action;
use packyard_core::{gitlab_json, ApiError, Formats, Principal, Registry, RouteClass};

use crate::handlers::query_without_paging;
use crate::views::{self, PackageExtras};

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

#[derive(Deserialize, Clone, Default)]
pub struct ListQuery {
    pub(crate) package_type: Option<String>,
    pub(crate) package_name: Option<String>,
    pub(crate) package_version: Option<String>,
    /// Accepted for compatibility; versionless packages do not exist here.
    #[allow(dead_code)]
    pub(crate) include_versionless: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) order_by: Option<String>,
    pub(crate) sort: Option<String>,
    pub(crate) page: Option<String>,
    pub(crate) per_page: Option<String>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
    per_page: Option<String>,
}

pub(crate) fn invalid_value(param: &str) -> ApiError {
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

/// The list filter of `q`. `package_type` names an installed format, by GitLab's
/// `package_type` or by its id (spec §3); anything else is a 400.
pub(crate) fn filter_from(
    q: &ListQuery,
    formats: &Formats,
) -> Result<(PackageFilter, PackageOrder, bool), ApiError> {
    let non_empty = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let format = match non_empty(&q.package_type) {
        None => None,
        Some(t) => Some(
            formats
                .lookup(&t)
                .map(|f| f.id().0.to_owned())
                .ok_or_else(|| invalid_value("package_type"))?,
        ),
    };
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
pub(crate) fn link_base(registry: &Registry, req: &HttpRequest) -> String {
    let base = registry.url(req.path());
    match query_without_paging(req.query_string()) {
        q if q.is_empty() => base,
        q => format!("{base}?{q}"),
    }
}

pub(crate) fn paged(body: &Value, headers: Vec<(&'static str, String)>) -> HttpResponse {
    let mut resp = json(StatusCode::OK, body);
    for (name, value) in headers {
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&value) {
            resp.headers_mut()
                .insert(actix_web::http::header::HeaderName::from_static(name), v);
        }
    }
    resp
}

/// What the views of one page of packages need beyond the rows, loaded in three queries
/// whatever the page size: the tags and build infos of every package, and the users behind
/// the builds.
pub(crate) struct PageExtras {
    tags: HashMap<PackageId, Vec<PackageTag>>,
    builds: HashMap<PackageId, Vec<PackageBuildInfo>>,
    users: HashMap<UserId, User>,
}

impl PageExtras {
    pub(crate) async fn load(registry: &Registry, rows: &[Package]) -> Result<Self, ApiError> {
        let ids: Vec<PackageId> = rows.iter().map(|p| p.id).collect();
        let catalog = registry.catalog();
        let mut tags: HashMap<PackageId, Vec<PackageTag>> = HashMap::new();
        let mut builds: HashMap<PackageId, Vec<PackageBuildInfo>> = HashMap::new();
        let mut users = HashMap::new();
        if ids.is_empty() {
            return Ok(PageExtras {
                tags,
                builds,
                users,
            });
        }
        for t in catalog.package_tags_of(&ids).await? {
            tags.entry(t.package_id).or_default().push(t);
        }
        for b in catalog.package_build_infos_of(&ids).await? {
            builds.entry(b.package_id).or_default().push(b);
        }
        let mut user_ids: Vec<UserId> = builds
            .values()
            .flatten()
            .filter_map(|b| b.user_id)
            .collect();
        user_ids.sort();
        user_ids.dedup();
        if !user_ids.is_empty() {
            for u in catalog.users_by_ids(&user_ids).await? {
                users.insert(u.id, u);
            }
        }
        Ok(PageExtras {
            tags,
            builds,
            users,
        })
    }

    pub(crate) fn of<'a>(
        &'a self,
        project: &'a Project,
        pkg: &Package,
        can_delete: bool,
    ) -> PackageExtras<'a> {
        PackageExtras {
            project,
            tags: self.tags.get(&pkg.id).map(Vec::as_slice).unwrap_or(&[]),
            builds: self.builds.get(&pkg.id).map(Vec::as_slice).unwrap_or(&[]),
            users: &self.users,
            can_delete,
        }
    }
}

pub(crate) async fn can_delete(
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
    caller: TokenCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let project = registry
        .authorize_project(&principal, &path.id, Action::ReadPackage, RouteClass::Rest)
        .await?;
    let (filter, order, descending) = filter_from(&query, registry.formats())?;
    let page = page_from(query.page.as_deref(), query.per_page.as_deref())?;
    let (rows, total) = registry
        .catalog()
        .list_packages(&[project.id], &filter, order, descending, page)
        .await?;
    let deletable = can_delete(&registry, &principal, &project).await?;
    let extras = PageExtras::load(&registry, &rows).await?;
    let external_url = &registry.config().external_url;
    let items: Vec<Value> = rows
        .iter()
        .map(|pkg| views::package(external_url, pkg, &extras.of(&project, pkg, deletable)))
        .collect();
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
    caller: TokenCaller,
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
    // GitLab lists the other *displayable* versions of the same name and type.
    let others: Vec<Package> = registry
        .catalog()
        .packages_by_name(project.id, &pkg.format, &pkg.normalized_name)
        .await?
        .into_iter()
        .filter(|o| o.id != pkg.id && o.version != pkg.version && o.status.listed_by_default())
        .collect();
    let mut all = others.clone();
    all.push(pkg.clone());
    let extras = PageExtras::load(&registry, &all).await?;
    let external_url = &registry.config().external_url;
    let mut body = views::package(external_url, &pkg, &extras.of(&project, &pkg, deletable));
    let versions: Vec<Value> = others
        .iter()
        .map(|o| views::package_version(external_url, o, &extras.of(&project, o, deletable)))
        .collect();
    if let Some(obj) = body.as_object_mut() {
        obj.insert("versions".into(), Value::Array(versions));
    }
    Ok(json(StatusCode::OK, &body))
}

/// `DELETE /projects/:id/packages/:package_id` → 204. Maintainer+; 403 is checked before the
/// package is looked up, as GitLab does.
pub async fn delete(
    path: web::Path<PackagePath>,
    caller: TokenCaller,
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
    registry.delete_package(&principal, &project, &pkg).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /projects/:id/packages/:package_id/package_files` (offset-paginated).
pub async fn files(
    req: HttpRequest,
    path: web::Path<PackagePath>,
    query: web::Query<PageQuery>,
    caller: TokenCaller,
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
    caller: TokenCaller,
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
        .delete_package_file(&principal, &project, &pkg, PackageFileId(file_id))
        .await?
    {
        return Err(file_not_found());
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct PipelinesQuery {
    per_page: Option<String>,
    /// Opaque keyset cursor from the `Link rel="next"` of the previous page.
    cursor: Option<String>,
    pagination: Option<String>,
    order_by: Option<String>,
    sort: Option<String>,
}

/// `GET /projects/:id/packages/:package_id/pipelines`: the CI builds that published to the
/// package (the last five are kept), newest first, keyset-paginated like GitLab
/// (`order_by=id`, `sort=desc` only; `Link rel="next"` carries the cursor).
pub async fn pipelines(
    req: HttpRequest,
    path: web::Path<PackagePath>,
    query: web::Query<PipelinesQuery>,
    caller: TokenCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let project = registry
        .authorize_project(&principal, &path.id, Action::ReadPackage, RouteClass::Rest)
        .await?;
    if query
        .pagination
        .as_deref()
        .is_some_and(|p| !p.is_empty() && p != "keyset")
    {
        return Err(invalid_value("pagination"));
    }
    if query
        .order_by
        .as_deref()
        .is_some_and(|o| !o.is_empty() && o != "id")
    {
        return Err(invalid_value("order_by"));
    }
    if query
        .sort
        .as_deref()
        .is_some_and(|o| !o.is_empty() && o != "desc")
    {
        return Err(invalid_value("sort"));
    }
    let page = page_from(None, query.per_page.as_deref())?;
    let before = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| invalid_value("cursor"))?),
    };
    let pkg = find_package(
        &registry,
        &project,
        &path.package_id,
        PackageStatus::listed_by_default,
    )
    .await?;
    let builds = registry.catalog().package_build_infos(pkg.id).await?;
    let mut rest: Vec<&PackageBuildInfo> = builds
        .iter()
        .filter(|b| before.is_none_or(|c| b.id < c))
        .collect();
    rest.sort_by_key(|b| std::cmp::Reverse(b.id));
    let more = rest.len() > page.per_page as usize;
    rest.truncate(page.per_page as usize);
    let mut user_ids: Vec<UserId> = rest.iter().filter_map(|b| b.user_id).collect();
    user_ids.sort();
    user_ids.dedup();
    let users: HashMap<UserId, User> = if user_ids.is_empty() {
        HashMap::new()
    } else {
        registry
            .catalog()
            .users_by_ids(&user_ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect()
    };
    let external_url = &registry.config().external_url;
    let items: Vec<Value> = rest
        .iter()
        .map(|b| views::package_pipeline(external_url, &project, b, &users))
        .collect();
    let mut headers = vec![("x-per-page", page.per_page.to_string())];
    if let (true, Some(last)) = (more, rest.last()) {
        let base = registry.url(req.path());
        headers.push((
            "link",
            format!(
                "<{base}?cursor={}&order_by=id&pagination=keyset&per_page={}&sort=desc>; rel=\"next\"",
                last.id, page.per_page
            ),
        ));
    }
    Ok(paged(&Value::Array(items), headers))
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
        let none = Formats::default();
        let err =
            |pairs: &[(&str, &str)]| filter_from(&query(pairs), &none).err().unwrap().to_string();
        assert!(err(&[("order_by", "size")]).contains("order_by does not have a valid value"));
        assert!(err(&[("sort", "up")]).contains("sort does not have a valid value"));
        assert!(err(&[("status", "gone")]).contains("status does not have a valid value"));
        assert!(
            err(&[("package_type", "crates")]).contains("package_type does not have a valid value")
        );
        assert!(
            err(&[("package_type", "npm")]).contains("package_type does not have a valid value"),
            "not installed"
        );
        let (f, o, d) = filter_from(
            &query(&[("order_by", "name"), ("sort", "desc"), ("status", "hidden")]),
            &none,
        )
        .unwrap();
        assert_eq!(
            (o, d, f.status),
            (PackageOrder::Name, true, Some(PackageStatus::Hidden))
        );
    }
}
