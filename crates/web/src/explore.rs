//! `/explore`: the groups and projects the visitor may see (anonymous visitors: the public
//! ones), each linking to its package registry. `?search=` filters both lists by name or
//! path; `?page=` pages through them, 20 of each per page.

use actix_web::{web, HttpResponse};
use maud::html;
use packyard_core::model::{
    GroupFilter, ListOptions, ListOrder, Page, Paging, ProjectFilter, Visibility,
};
use packyard_core::Registry;
use serde::Deserialize;

use crate::error::WebError;
use crate::layout::{self, Crumb};
use crate::session::Visitor;

const PER_PAGE: i64 = 20;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/explore", web::get().to(explore));
}

#[derive(Deserialize)]
pub struct ExploreQuery {
    search: Option<String>,
    page: Option<String>,
}

pub fn visibility_badge(v: Visibility) -> maud::Markup {
    let text = match v {
        Visibility::Private => "Private",
        Visibility::Internal => "Internal",
        Visibility::Public => "Public",
    };
    html! { span.badge title=(format!("Visibility: {text}")) { (text) } }
}

async fn explore(
    visitor: Visitor,
    query: web::Query<ExploreQuery>,
    registry: web::Data<Registry>,
) -> Result<HttpResponse, WebError> {
    let search = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let page = layout::page_param(query.page.as_deref());
    let reach = registry.reach(visitor.user.as_ref(), false).await?;
    let options = ListOptions {
        order: ListOrder::Path,
        descending: false,
        paging: Paging::Offset(Page {
            page,
            per_page: PER_PAGE,
        }),
    };
    let catalog = registry.catalog();
    let groups = catalog
        .list_groups(
            GroupFilter {
                reach: reach.clone(),
                search: search.clone(),
                ..GroupFilter::default()
            },
            options,
        )
        .await?;
    let projects = catalog
        .list_projects(
            ProjectFilter {
                reach,
                search: search.clone(),
                ..ProjectFilter::default()
            },
            options,
        )
        .await?;
    let total = groups
        .total
        .unwrap_or_default()
        .max(projects.total.unwrap_or_default());
    let search_value = search.clone().unwrap_or_default();
    let body = html! {
        h1 { "Explore" }
        form.filters role="search" method="get" action="/explore" {
            div.field {
                label for="search" { "Search groups and projects" }
                input #search type="search" name="search" value=(search_value);
            }
            button type="submit" { "Search" }
        }
        div.explore {
            section aria-labelledby="groups-title" {
                h2 #groups-title { "Groups" }
                @if groups.items.is_empty() {
                    p.muted { "No groups to show." }
                } @else {
                    ul.cards {
                        @for g in &groups.items {
                            li {
                                a href=(format!("/groups/{}/-/packages", g.full_path)) { (g.full_path) }
                                " " (visibility_badge(g.visibility))
                                @if !g.description.is_empty() { div.muted { (g.description) } }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="projects-title" {
                h2 #projects-title { "Projects" }
                @if projects.items.is_empty() {
                    p.muted { "No projects to show." }
                } @else {
                    ul.cards {
                        @for p in &projects.items {
                            li {
                                a href=(format!("/{}/-/packages", p.full_path)) { (p.full_path) }
                                " " (visibility_badge(p.visibility))
                                @if !p.description.is_empty() { div.muted { (p.description) } }
                            }
                        }
                    }
                }
            }
        }
        @if total > PER_PAGE {
            (layout::pager(
                |n| layout::url_with("/explore", &[("search", search_value.clone()), ("page", n.to_string())]),
                page,
                PER_PAGE,
                total,
            ))
        }
    };
    Ok(layout::html_page(
        &visitor,
        layout::page(
            &visitor,
            "Explore",
            &[Crumb::new("Explore", "/explore")],
            body,
        ),
    ))
}
