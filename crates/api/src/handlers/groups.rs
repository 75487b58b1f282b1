//! Groups (<https://docs.gitlab.com/api/groups/>, spec §2.3): `POST /groups`, `GET /groups`
//! (`search`, `owned`, `min_access_level`, `top_level_only`, `all_available`, keyset pages on
//! id), `GET|PUT|DELETE /groups/:id` (DELETE answers 202 and the group is gone at once),
//! `GET /groups/:id/subgroups`, `/descendant_groups` and `/projects`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use packyard_core::admin::Need;
use packyard_core::http::{json, RestCaller};
use packyard_core::model::{
    AccessLevel, Group, GroupFilter, GroupId, GroupUpdate, ListOrder, Listing, MemberSource,
    NewGroup, ProjectFilter, Reach, User, Visibility,
};
use packyard_core::{ApiError, Registry};

use super::params::{page_response, Params};
use super::projects::{projects_page, Namespaces};
use crate::views;

const ORDERS: &[(&str, ListOrder)] = &[
    ("name", ListOrder::Name),
    ("path", ListOrder::Path),
    ("id", ListOrder::Id),
    ("created_at", ListOrder::CreatedAt),
    ("similarity", ListOrder::Name),
];

const PROJECT_ORDERS: &[(&str, ListOrder)] = &[
    ("created_at", ListOrder::CreatedAt),
    ("id", ListOrder::Id),
    ("name", ListOrder::Name),
    ("path", ListOrder::Path),
    ("updated_at", ListOrder::CreatedAt),
    ("last_activity_at", ListOrder::CreatedAt),
];

#[derive(serde::Deserialize)]
pub struct GroupPath {
    id: String,
}

async fn group_json(
    names: &mut Namespaces,
    registry: &Registry,
    group: &Group,
) -> Result<serde_json::Value, ApiError> {
    let ancestors = names.ancestor_names(registry, group).await?;
    Ok(views::group(
        &registry.config().external_url,
        group,
        &ancestors,
    ))
}

async fn groups_page(
    req: &HttpRequest,
    registry: &Registry,
    listing: Listing<Group>,
    paging: packyard_core::model::Paging,
) -> Result<HttpResponse, ApiError> {
    let mut names = Namespaces::default();
    let mut items = Vec::with_capacity(listing.items.len());
    for g in &listing.items {
        items.push(group_json(&mut names, registry, g).await?);
    }
    let last = listing.items.last().map(|g| g.id.0);
    Ok(page_response(
        req,
        registry,
        paging,
        listing.total,
        last,
        items,
    ))
}

/// The caller's reach for a group listing: `owned` and `min_access_level` narrow it to
/// memberships at that level; `all_available` (default: admins and anonymous callers yes,
/// other users no) widens it from memberships to everything visible.
async fn listing_reach(
    registry: &Registry,
    me: Option<&User>,
    params: &Params,
    default_all: bool,
) -> Result<Reach, ApiError> {
    let min_level = match (
        params.boolean("owned")?,
        params.access_level("min_access_level")?,
    ) {
        (Some(true), _) => Some(AccessLevel::Owner),
        (_, level) => level,
    };
    let all = params
        .boolean("all_available")?
        .unwrap_or(default_all || me.is_none_or(|u| u.is_admin));
    match (me, min_level) {
        (Some(user), Some(min)) => {
            let mut reach = registry.reach(Some(user), true).await?;
            reach.project_ids.clear();
            reach.owner = None;
            let memberships = registry
                .catalog()
                .user_memberships(user.id, &chrono::Utc::now().format("%Y-%m-%d").to_string())
                .await?;
            reach.group_ids = memberships
                .into_iter()
                .filter(|m| m.access_level >= min)
                .filter_map(|m| match m.source {
                    MemberSource::Group(g) => Some(g),
                    MemberSource::Project(_) => None,
                })
                .collect();
            Ok(reach)
        }
        (None, Some(_)) => Ok(Reach::default()),
        (_, None) => registry.reach(me, !all).await,
    }
}

pub async fn list(
    req: HttpRequest,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.management_user(&caller.0, Need::Read)?;
    let params = Params::query(&req)?;
    let options = params.list_options(ORDERS, false, true)?;
    let filter = GroupFilter {
        reach: listing_reach(&registry, me, &params, false).await?,
        search: params.string("search")?.filter(|s| !s.is_empty()),
        top_level_only: params.boolean("top_level_only")?.unwrap_or(false),
        ..GroupFilter::default()
    };
    let listing = registry.catalog().list_groups(filter, options).await?;
    groups_page(&req, &registry, listing, options.paging).await
}

/// `GET /groups/:id/subgroups` and `/descendant_groups`: what the caller may see below.
async fn below(
    req: HttpRequest,
    path: web::Path<GroupPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    descendants: bool,
) -> Result<HttpResponse, ApiError> {
    let me = registry.management_user(&caller.0, Need::Read)?;
    let (group, _) = registry.authorize_group(me, &path.id, None).await?;
    let params = Params::query(&req)?;
    let options = params.list_options(ORDERS, false, true)?;
    let mut filter = GroupFilter {
        reach: listing_reach(&registry, me, &params, true).await?,
        search: params.string("search")?.filter(|s| !s.is_empty()),
        ..GroupFilter::default()
    };
    if descendants {
        filter.descendants_of = Some(group.id);
    } else {
        filter.parent = Some(group.id);
    }
    let listing = registry.catalog().list_groups(filter, options).await?;
    groups_page(&req, &registry, listing, options.paging).await
}

pub async fn subgroups(
    req: HttpRequest,
    path: web::Path<GroupPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    below(req, path, caller, registry, false).await
}

pub async fn descendant_groups(
    req: HttpRequest,
    path: web::Path<GroupPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    below(req, path, caller, registry, true).await
}

/// `GET /groups/:id/projects` (`include_subgroups`, `search`, `visibility`, order, keyset).
pub async fn projects(
    req: HttpRequest,
    path: web::Path<GroupPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.management_user(&caller.0, Need::Read)?;
    let (group, _) = registry.authorize_group(me, &path.id, None).await?;
    let params = Params::query(&req)?;
    let options = params.list_options(PROJECT_ORDERS, true, true)?;
    let subgroups = params.boolean("include_subgroups")?.unwrap_or(false);
    let filter = ProjectFilter {
        reach: registry.reach(me, false).await?,
        search: params.string("search")?.filter(|s| !s.is_empty()),
        visibility: params.visibility("visibility")?,
        group: Some(group.id),
        include_subgroups: subgroups,
    };
    let listing = registry.catalog().list_projects(filter, options).await?;
    let simple = params.boolean("simple")?.unwrap_or(false);
    projects_page(&req, &registry, me, listing, options.paging, simple).await
}

pub async fn show(
    path: web::Path<GroupPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.management_user(&caller.0, Need::Read)?;
    let (group, _) = registry.authorize_group(me, &path.id, None).await?;
    let view = group_json(&mut Namespaces::default(), &registry, &group).await?;
    Ok(json(StatusCode::OK, &view))
}

/// `POST /groups`: `name` and `path` (GitLab needs both), `parent_id`, `visibility`
/// (default private), `description`.
pub async fn create(
    req: HttpRequest,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let params = Params::merged(&req, body).await?;
    let name = params.required("name")?;
    let path = params.required("path")?;
    let group = registry
        .create_group_as(
            me,
            NewGroup {
                name,
                path,
                parent_id: params.integer("parent_id")?.map(GroupId),
                visibility: params
                    .visibility("visibility")?
                    .unwrap_or(Visibility::Private),
                description: params.string("description")?.unwrap_or_default(),
            },
        )
        .await?;
    let view = group_json(&mut Namespaces::default(), &registry, &group).await?;
    Ok(json(StatusCode::CREATED, &view))
}

/// `PUT /groups/:id` (Owner): name, path, visibility, description.
pub async fn update(
    req: HttpRequest,
    path: web::Path<GroupPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let params = Params::merged(&req, body).await?;
    let (group, _) = registry
        .authorize_group(Some(me), &path.id, Some(AccessLevel::Owner))
        .await?;
    let update = GroupUpdate {
        name: params.string("name")?,
        path: params.string("path")?,
        visibility: params.visibility("visibility")?,
        description: params.string("description")?,
    };
    let group = registry.update_group_as(&group, update).await?;
    let view = group_json(&mut Namespaces::default(), &registry, &group).await?;
    Ok(json(StatusCode::OK, &view))
}

/// `DELETE /groups/:id` (Owner): 202; the group, its subgroups and their projects (with
/// packages) are gone when the answer leaves.
pub async fn delete(
    path: web::Path<GroupPath>,
    caller: RestCaller,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, ApiError> {
    let me = registry.signed_in_user(&caller.0, Need::Write)?;
    let (group, _) = registry
        .authorize_group(Some(me), &path.id, Some(AccessLevel::Owner))
        .await?;
    registry.catalog().delete_group(group.id).await?;
    Ok(json(
        StatusCode::ACCEPTED,
        &json!({ "message": "202 Accepted" }),
    ))
}
