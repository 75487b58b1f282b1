//! `GET /groups/:id/packages` (<https://docs.gitlab.com/api/packages/#for-a-group>): the
//! packages of every project in the group and its subgroups (only the group itself with
//! `exclude_subgroups=true`) whose packages the caller may read, with `project_id` and
//! `project_path` added to each. Same filters as the project listing, plus
//! `order_by=project_path`. Offset-paginated.
//!
//! One page costs a fixed number of queries whatever its size and the number of projects:
//! the access facts of the group's projects (`Registry::package_access_in_group`), the page
//! and its count, then one batched query each for tags, build infos and users.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use packyard_core::http::TokenCaller;
use packyard_core::model::{Namespace, ProjectId};
use packyard_core::pagination::{self, page_from};
use packyard_core::protection::ProjectAccess;
use packyard_core::{ApiError, Registry, RouteClass};

use crate::handlers::package_params::parse_bool;
use crate::handlers::packages::{
    filter_from, invalid_value, link_base, paged, ListQuery, PageExtras,
};
use crate::views;

#[derive(Deserialize)]
pub struct GroupPath {
    id: String,
}

#[derive(Deserialize)]
pub struct GroupListQuery {
    exclude_subgroups: Option<String>,
    #[serde(flatten)]
    list: ListQuery,
}

/// `GET /groups/:id/packages`.
pub async fn list(
    req: HttpRequest,
    path: web::Path<GroupPath>,
    query: web::Query<GroupListQuery>,
    caller: TokenCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let query = query.into_inner();
    let exclude_subgroups = match query.exclude_subgroups.as_deref() {
        None | Some("") => false,
        Some(raw) => parse_bool(raw).ok_or_else(|| invalid_value("exclude_subgroups"))?,
    };
    let by_project_path = query.list.order_by.as_deref() == Some("project_path");
    let mut list = query.list;
    if by_project_path {
        list.order_by = None;
    }
    let (filter, order, descending) = filter_from(&list, registry.formats())?;
    let page = page_from(list.page.as_deref(), list.per_page.as_deref())?;

    let (group, access) = registry
        .package_access_in_group(&principal, &path.id, RouteClass::Rest)
        .await?;
    let projects: HashMap<ProjectId, ProjectAccess> = access
        .into_iter()
        .filter(|a| !exclude_subgroups || a.project.namespace == Namespace::Group(group.id))
        .map(|a| (a.project.id, a))
        .collect();
    let mut ids: Vec<ProjectId> = projects.keys().copied().collect();
    ids.sort();
    let catalog = registry.catalog();
    let (rows, total) = if by_project_path {
        catalog
            .list_packages_by_project_path(&ids, &filter, descending, page)
            .await?
    } else {
        catalog
            .list_packages(&ids, &filter, order, descending, page)
            .await?
    };
    let extras = PageExtras::load(&registry, &rows).await?;
    let external_url = &registry.config().external_url;
    let items: Vec<Value> = rows
        .iter()
        .filter_map(|pkg| {
            let access = projects.get(&pkg.project_id)?;
            Some(views::group_package(
                external_url,
                pkg,
                &extras.of(&access.project, pkg, access.can_delete),
            ))
        })
        .collect();
    let headers = pagination::headers(page, total, &link_base(&registry, &req));
    Ok(paged(&Value::Array(items), headers))
}
