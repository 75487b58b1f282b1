//! The package registry listings: `/:project_path/-/packages` (one project) and
//! `/groups/:group_path/-/packages` (every project of the group and its subgroups whose
//! packages the visitor may read, each row naming its project), as GitLab's
//! "Package Registry" pages.
//!
//! Every choice lives in the URL query, so a copied URL shows the same result to anyone
//! allowed to see it. The names are those of GitLab's packages API
//! (<https://docs.gitlab.com/api/packages/>) where it has one: `status`, `order_by`
//! (`created_at`, `name`, `version`, `type`, and `project_path` on the group page), `sort`
//! (`asc`, `desc`), `page`, `per_page` (default 20, at most 100). Two are the UI's own:
//! `search` is the search box (the API calls it `package_name`) and `format` the format
//! select (the API's `package_type`); the API names are accepted as well, so a URL built for
//! the API opens the same listing. A value the page cannot use falls back to its default,
//! never to an error page: these URLs are typed, shared and edited by people.
//!
//! The choices are kept in the URL in their canonical form, defaults left out, so the pager,
//! the column headers and the "Clear" link keep every other choice as it was.
//!
//! One page costs a fixed number of catalog queries whatever the number of projects and
//! packages: the visitor's session, the access facts of the project (or of every project of
//! the group at once, `Registry::package_access_in_group`), the page and its count, the tags
//! of the page's packages in one batch, and the visitor's role for the settings link
//! (`tests/registry_scale.rs` counts them).

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use packyard_core::model::{
    AccessLevel, Namespace, Package, PackageFilter, PackageId, PackageOrder, PackageStatus,
    PackageTag, Page, Project, ProjectId,
};
use packyard_core::policy::{Action, Decision};
use packyard_core::{PackageFormat, Principal, Registry, RouteClass};

use crate::error::WebError;
use crate::layout::{self, Crumb};
use crate::session::Visitor;
use crate::WebState;

/// Packages per page unless `per_page` says otherwise.
pub const DEFAULT_PER_PAGE: i64 = 20;
/// The largest `per_page`, as GitLab's API.
pub const MAX_PER_PAGE: i64 = 100;
/// Deeper pages than this are not offered (an offset of millions of rows helps nobody).
const MAX_PAGE: i64 = 100_000;
/// Longer search text is cut here.
const MAX_SEARCH_CHARS: usize = 200;
/// The page sizes the select offers (another valid `per_page` is offered too when in use).
const PER_PAGE_CHOICES: [i64; 3] = [20, 50, 100];

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The group route first: `/groups/x/-/packages` would otherwise be read as the packages
    // of a project `groups/x`.
    cfg.route(
        "/groups/{group_path:.+}/-/packages",
        web::get().to(group_packages),
    )
    .route(
        "/{project_path:.+}/-/packages",
        web::get().to(project_packages),
    );
}

/// The orders a listing offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderBy {
    CreatedAt,
    Name,
    Version,
    Type,
    /// Group pages only.
    ProjectPath,
}

impl OrderBy {
    const ALL: [OrderBy; 5] = [
        OrderBy::CreatedAt,
        OrderBy::Name,
        OrderBy::Version,
        OrderBy::Type,
        OrderBy::ProjectPath,
    ];

    pub fn param(self) -> &'static str {
        match self {
            OrderBy::CreatedAt => "created_at",
            OrderBy::Name => "name",
            OrderBy::Version => "version",
            OrderBy::Type => "type",
            OrderBy::ProjectPath => "project_path",
        }
    }

    fn label(self) -> &'static str {
        match self {
            OrderBy::CreatedAt => "Created",
            OrderBy::Name => "Name",
            OrderBy::Version => "Version",
            OrderBy::Type => "Format",
            OrderBy::ProjectPath => "Project",
        }
    }

    fn parse(raw: &str, group: bool) -> Option<OrderBy> {
        Self::ALL
            .into_iter()
            .find(|o| o.param() == raw)
            .filter(|o| group || *o != OrderBy::ProjectPath)
    }

    /// Newest first by date; A to Z otherwise.
    fn default_descending(self) -> bool {
        self == OrderBy::CreatedAt
    }

    fn catalog_order(self) -> PackageOrder {
        match self {
            OrderBy::CreatedAt | OrderBy::ProjectPath => PackageOrder::CreatedAt,
            OrderBy::Name => PackageOrder::Name,
            OrderBy::Version => PackageOrder::Version,
            OrderBy::Type => PackageOrder::Type,
        }
    }
}

/// What the visitor chose, read from the URL query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// Part of the name, as typed (trimmed); empty for none.
    pub search: String,
    /// A compiled-in format id.
    pub format: Option<String>,
    /// One status; `None` lists what GitLab lists by default (default, error, deprecated).
    pub status: Option<PackageStatus>,
    pub order_by: OrderBy,
    pub descending: bool,
    pub page: i64,
    pub per_page: i64,
}

impl Listing {
    /// Reads a query string. Unknown parameters are ignored; of a repeated one, the first
    /// counts; an unusable value falls back to the default.
    pub fn parse(query: &str, formats: &[Arc<dyn PackageFormat>], group: bool) -> Listing {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
            .map(|q| q.into_inner())
            .unwrap_or_default();
        let get = |names: &[&str]| -> Option<&str> {
            names.iter().find_map(|n| {
                pairs
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.trim())
                    .filter(|v| !v.is_empty())
            })
        };
        let search: String = get(&["search", "package_name"])
            .unwrap_or_default()
            .chars()
            .take(MAX_SEARCH_CHARS)
            .collect();
        // An installed format, by its id or GitLab's `package_type` name.
        let format = get(&["format", "package_type"]).and_then(|f| {
            formats
                .iter()
                .find(|known| known.id().0 == f || known.gitlab_package_type() == f)
                .map(|known| known.id().0.to_owned())
        });
        let status = get(&["status"]).and_then(PackageStatus::parse);
        let order_by = get(&["order_by"])
            .and_then(|o| OrderBy::parse(o, group))
            .unwrap_or(OrderBy::CreatedAt);
        let descending = match get(&["sort"]) {
            Some("asc") => false,
            Some("desc") => true,
            _ => order_by.default_descending(),
        };
        let number = |name: &str, range: std::ops::RangeInclusive<i64>, default: i64| {
            get(&[name])
                .and_then(|v| v.parse::<i64>().ok())
                .filter(|n| range.contains(n))
                .unwrap_or(default)
        };
        Listing {
            search: search.trim().to_owned(),
            format,
            status,
            order_by,
            descending,
            page: number("page", 1..=MAX_PAGE, 1),
            per_page: number("per_page", 1..=MAX_PER_PAGE, DEFAULT_PER_PAGE),
        }
    }

    /// Whether a filter narrows the listing (for the empty state's text).
    fn filtered(&self) -> bool {
        !self.search.is_empty() || self.format.is_some() || self.status.is_some()
    }

    fn filter(&self) -> PackageFilter {
        PackageFilter {
            format: self.format.clone(),
            name_contains: (!self.search.is_empty()).then(|| self.search.clone()),
            status: self.status,
            ..PackageFilter::default()
        }
    }

    fn catalog_page(&self) -> Page {
        Page {
            page: self.page,
            per_page: self.per_page,
        }
    }

    /// The query pairs of this listing in canonical form, defaults left out.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let or_empty = |keep: bool, v: String| if keep { v } else { String::new() };
        vec![
            ("search", self.search.clone()),
            ("format", self.format.clone().unwrap_or_default()),
            (
                "status",
                self.status
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            (
                "order_by",
                or_empty(
                    self.order_by != OrderBy::CreatedAt,
                    self.order_by.param().to_owned(),
                ),
            ),
            (
                "sort",
                or_empty(
                    self.descending != self.order_by.default_descending(),
                    sort_param(self.descending).to_owned(),
                ),
            ),
            (
                "per_page",
                or_empty(self.per_page != DEFAULT_PER_PAGE, self.per_page.to_string()),
            ),
            ("page", or_empty(self.page != 1, self.page.to_string())),
        ]
    }

    /// `base` with this listing's query.
    pub fn url(&self, base: &str) -> String {
        layout::url_with(base, &self.pairs())
    }
}

fn sort_param(descending: bool) -> &'static str {
    if descending {
        "desc"
    } else {
        "asc"
    }
}

/// The badge of a package whose status is not `default`.
fn status_badge(s: PackageStatus) -> Markup {
    html! {
        @match s {
            PackageStatus::Default => {},
            PackageStatus::Error | PackageStatus::PendingDestruction => {
                span.badge.warn title=(format!("Status: {}", layout::status_label(s))) { (layout::status_label(s)) }
            },
            _ => {
                span.badge title=(format!("Status: {}", layout::status_label(s))) { (layout::status_label(s)) }
            },
        }
    }
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// Breadcrumbs for the groups of `full_path` (every segment but the last `skip_last`),
/// each linking to its group's registry.
fn group_crumbs(full_path: &str, skip_last: usize) -> Vec<Crumb> {
    let segments: Vec<&str> = full_path.split('/').collect();
    let keep = segments.len().saturating_sub(skip_last);
    (1..=keep)
        .map(|n| {
            let prefix = segments[..n].join("/");
            Crumb::new(segments[n - 1], format!("/groups/{prefix}/-/packages"))
        })
        .collect()
}

/// The project at `project_path` when the visitor may read its packages. Everything else
/// (unknown, hidden, registry off, a role that may not read packages, a numeric id instead
/// of the path) is the same 404 page, so that a private project's existence does not show.
pub(crate) async fn readable_project(
    registry: &Registry,
    principal: &Principal,
    project_path: &str,
) -> Result<Project, WebError> {
    let wanted = project_path.trim_matches('/');
    let project = match registry
        .find_and_decide(principal, wanted, Action::ReadPackage)
        .await?
    {
        // `find_and_decide` also takes numeric ids; a page URL names the path only.
        (Some(p), Decision::Allow) if p.full_path.eq_ignore_ascii_case(wanted) => p,
        _ => return Err(WebError::NotFound),
    };
    // "Allow anyone to pull" opens the package-manager routes only: the pages show a
    // project's packages (and its name, builds and members' names) to who can see it.
    if registry
        .decide(principal, &project, Action::ReadProject)
        .await?
        .is_allowed()
    {
        Ok(project)
    } else {
        Err(WebError::NotFound)
    }
}

/// Explore, the project's groups, the project, and its Packages.
pub(crate) fn project_crumbs(project: &Project) -> Vec<Crumb> {
    let base = format!("/{}/-/packages", project.full_path);
    let mut crumbs = vec![Crumb::new("Explore", "/explore")];
    if let Namespace::Group(_) = project.namespace {
        crumbs.extend(group_crumbs(&project.full_path, 1));
    }
    crumbs.push(Crumb::new(project.name.clone(), base.clone()));
    crumbs.push(Crumb::new("Packages", base));
    crumbs
}

/// `GET /:project_path/-/packages`.
async fn project_packages(
    req: HttpRequest,
    visitor: Visitor,
    path: web::Path<String>,
    registry: web::Data<Registry>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let principal = visitor.principal();
    let project = readable_project(&registry, &principal, &path).await?;
    let listing = Listing::parse(req.query_string(), &state.formats, false);
    let catalog = registry.catalog();
    let (rows, total) = catalog
        .list_packages(
            &[project.id],
            &listing.filter(),
            listing.order_by.catalog_order(),
            listing.descending,
            listing.catalog_page(),
        )
        .await?;
    let tags = tags_of(&registry, &rows).await?;
    let can_admin = visitor.user.is_some()
        && registry
            .decide(&principal, &project, Action::AdminPackages)
            .await?
            .is_allowed();

    let base = format!("/{}/-/packages", project.full_path);
    let settings =
        can_admin.then(|| format!("/{}/-/settings/packages_and_registries", project.full_path));
    let mut crumbs = project_crumbs(&project);
    if let Some(last) = crumbs.last_mut() {
        last.href = listing.url(&base);
    }
    let project_path = project.full_path.clone();
    let body = listing_page(
        &state,
        &Head {
            kind: "Project",
            name: &project.name,
            full_path: &project.full_path,
            settings,
        },
        &listing,
        &base,
        false,
        &rows,
        total,
        &tags,
        |_| Some(project_path.as_str()),
    );
    let title = format!("Packages · {}", project.full_path);
    Ok(layout::html_page(
        &visitor,
        layout::page(&visitor, &title, &crumbs, body),
    ))
}

/// `GET /groups/:group_path/-/packages`.
async fn group_packages(
    req: HttpRequest,
    visitor: Visitor,
    path: web::Path<String>,
    registry: web::Data<Registry>,
    state: web::Data<WebState>,
) -> Result<HttpResponse, WebError> {
    let wanted = path.into_inner();
    let wanted = wanted.trim_matches('/');
    let principal = visitor.principal();
    // A group the visitor may not see is refused (404 page); one it sees but where it may
    // read no project's packages lists nothing.
    let (group, access) = registry
        .package_access_in_group(&principal, wanted, RouteClass::Rest)
        .await?;
    // The lookup also takes numeric ids; a page URL names the path only.
    if !group.full_path.eq_ignore_ascii_case(wanted) {
        return Err(WebError::NotFound);
    }
    let listing = Listing::parse(req.query_string(), &state.formats, true);
    let mut ids: Vec<ProjectId> = access.iter().map(|a| a.project.id).collect();
    ids.sort();
    let paths: HashMap<ProjectId, String> = access
        .into_iter()
        .map(|a| (a.project.id, a.project.full_path))
        .collect();
    let catalog = registry.catalog();
    let (rows, total) = if listing.order_by == OrderBy::ProjectPath {
        catalog
            .list_packages_by_project_path(
                &ids,
                &listing.filter(),
                listing.descending,
                listing.catalog_page(),
            )
            .await?
    } else {
        catalog
            .list_packages(
                &ids,
                &listing.filter(),
                listing.order_by.catalog_order(),
                listing.descending,
                listing.catalog_page(),
            )
            .await?
    };
    let tags = tags_of(&registry, &rows).await?;
    let is_owner = match &visitor.user {
        None => false,
        Some(u) if u.is_admin => true,
        Some(u) => catalog
            .effective_group_access_level(u.id, group.id, &today())
            .await?
            .is_some_and(|l| l >= AccessLevel::Owner),
    };

    let base = format!("/groups/{}/-/packages", group.full_path);
    let settings = is_owner.then(|| {
        format!(
            "/groups/{}/-/settings/packages_and_registries",
            group.full_path
        )
    });
    let mut crumbs = vec![Crumb::new("Explore", "/explore")];
    crumbs.extend(group_crumbs(&group.full_path, 0));
    crumbs.push(Crumb::new("Packages", listing.url(&base)));
    let body = listing_page(
        &state,
        &Head {
            kind: "Group",
            name: &group.name,
            full_path: &group.full_path,
            settings,
        },
        &listing,
        &base,
        true,
        &rows,
        total,
        &tags,
        |id| paths.get(&id).map(String::as_str),
    );
    let title = format!("Packages · {}", group.full_path);
    Ok(layout::html_page(
        &visitor,
        layout::page(&visitor, &title, &crumbs, body),
    ))
}

/// The tags of a page of packages, in one query.
async fn tags_of(
    registry: &Registry,
    rows: &[Package],
) -> Result<HashMap<PackageId, Vec<PackageTag>>, WebError> {
    let mut tags: HashMap<PackageId, Vec<PackageTag>> = HashMap::new();
    if rows.is_empty() {
        return Ok(tags);
    }
    let ids: Vec<PackageId> = rows.iter().map(|p| p.id).collect();
    for t in registry.catalog().package_tags_of(&ids).await? {
        tags.entry(t.package_id).or_default().push(t);
    }
    Ok(tags)
}

/// The heading of a listing.
struct Head<'a> {
    kind: &'static str,
    name: &'a str,
    full_path: &'a str,
    /// The settings page, for those who may change them.
    settings: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn listing_page<'p>(
    state: &WebState,
    head: &Head<'_>,
    listing: &Listing,
    base: &str,
    group: bool,
    rows: &[Package],
    total: i64,
    tags: &HashMap<PackageId, Vec<PackageTag>>,
    project_path: impl Fn(ProjectId) -> Option<&'p str>,
) -> Markup {
    let first = (listing.page - 1) * listing.per_page + 1;
    let last = first + rows.len() as i64 - 1;
    html! {
        div.registry-head {
            div {
                h1 { (head.name) }
                p.muted {
                    (head.kind) " " span.mono { (head.full_path) } " · Package registry"
                }
            }
            @if let Some(href) = &head.settings {
                a.button.secondary href=(href) { "Package registry settings" }
            }
        }
        (filters(state, listing, base, group))
        @if rows.is_empty() {
            div.registry-empty {
                @if total > 0 {
                    p { "No packages on this page." }
                    p {
                        a href=(Listing { page: 1, ..listing.clone() }.url(base)) {
                            "Go to the first page"
                        }
                    }
                } @else if listing.filtered() {
                    p { "No packages match these filters." }
                    p { a href=(base) { "Clear the filters" } }
                } @else if group {
                    p { "There are no packages in this group yet, or none you may see." }
                    p.muted {
                        "Packages published to the projects of this group and its subgroups \
                         appear here."
                    }
                } @else {
                    p { "There are no packages in this project yet." }
                    p.muted {
                        "Publish one with your package manager or the API; it appears here."
                    }
                }
            }
        } @else {
            p.registry-summary #listing-summary role="status" {
                (first) "–" (last) " of " (total) " package" @if total != 1 { "s" }
            }
            div.table-wrap {
                table.packages aria-describedby="listing-summary" {
                    thead {
                        tr {
                            (sort_header(listing, base, OrderBy::Name))
                            (sort_header(listing, base, OrderBy::Version))
                            (sort_header(listing, base, OrderBy::Type))
                            @if group {
                                (sort_header(listing, base, OrderBy::ProjectPath))
                            }
                            (sort_header(listing, base, OrderBy::CreatedAt))
                            th.hide-narrow scope="col" { "Tags" }
                        }
                    }
                    tbody {
                        @for pkg in rows {
                            @let path = project_path(pkg.project_id);
                            tr {
                                td {
                                    @if let Some(path) = path {
                                        a href=(format!("/{path}/-/packages/{}", pkg.id.0)) {
                                            (pkg.name)
                                        }
                                    } @else {
                                        (pkg.name)
                                    }
                                    (status_badge(pkg.status))
                                }
                                td.mono { (pkg.version) }
                                td { (state.format_name(&pkg.format)) }
                                @if group {
                                    td {
                                        @if let Some(path) = path {
                                            a href=(format!("/{path}/-/packages")) { (path) }
                                        }
                                    }
                                }
                                td { (layout::time(pkg.created_at)) }
                                td.hide-narrow {
                                    @match tags.get(&pkg.id) {
                                        Some(list) if !list.is_empty() => {
                                            @for t in list { span.badge.tag { (t.name) } " " }
                                        },
                                        _ => { span.muted aria-label="No tags" { (layout::dash()) } },
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if total > listing.per_page || listing.page > 1 {
            (layout::pager(
                |n| Listing { page: n, ..listing.clone() }.url(base),
                listing.page,
                listing.per_page,
                total,
            ))
        }
    }
}

/// A column header that sorts by its column: a second click reverses the order.
fn sort_header(listing: &Listing, base: &str, order: OrderBy) -> Markup {
    let current = listing.order_by == order;
    let descending = if current {
        !listing.descending
    } else {
        order.default_descending()
    };
    let href = Listing {
        order_by: order,
        descending,
        page: 1,
        ..listing.clone()
    }
    .url(base);
    let aria_sort = match (current, listing.descending) {
        (false, _) => None,
        (true, false) => Some("ascending"),
        (true, true) => Some("descending"),
    };
    let hint = format!(
        "Sort by {} {}",
        order.label().to_lowercase(),
        if descending {
            "descending"
        } else {
            "ascending"
        }
    );
    html! {
        th scope="col" aria-sort=[aria_sort] {
            a href=(href) title=(hint) {
                (order.label())
                @if current {
                    " " span aria-hidden="true" { @if listing.descending { "▼" } @else { "▲" } }
                }
            }
        }
    }
}

/// The search and filter form: a GET form, so every choice lands in the URL.
fn filters(state: &WebState, listing: &Listing, base: &str, group: bool) -> Markup {
    let mut formats: Vec<(&str, &str)> = state
        .formats
        .iter()
        .map(|f| (f.id().0, f.display_name()))
        .collect();
    formats.sort_by_key(|(_, name)| name.to_lowercase());
    let orders: Vec<OrderBy> = OrderBy::ALL
        .into_iter()
        .filter(|o| group || *o != OrderBy::ProjectPath)
        .collect();
    let mut sizes: Vec<i64> = PER_PAGE_CHOICES.to_vec();
    if !sizes.contains(&listing.per_page) {
        sizes.push(listing.per_page);
        sizes.sort_unstable();
    }
    html! {
        form.filters role="search" method="get" action=(base) aria-label="Filter packages" {
            div.field {
                label for="search" { "Search by name" }
                input #search type="search" name="search" value=(listing.search)
                    maxlength=(MAX_SEARCH_CHARS) autocomplete="off" spellcheck="false";
            }
            div.field {
                label for="format" { "Format" }
                select #format name="format" {
                    option value="" selected[listing.format.is_none()] { "All formats" }
                    @for (id, name) in &formats {
                        option value=(id) selected[listing.format.as_deref() == Some(*id)] { (name) }
                    }
                }
            }
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" selected[listing.status.is_none()] {
                        "All listed"
                    }
                    @for s in PackageStatus::ALL {
                        option value=(s.as_str()) selected[listing.status == Some(s)] {
                            (layout::status_label(s))
                        }
                    }
                }
            }
            div.field {
                label for="order_by" { "Sort by" }
                select #order_by name="order_by" {
                    @for o in &orders {
                        option value=(o.param()) selected[listing.order_by == *o] { (o.label()) }
                    }
                }
            }
            div.field {
                label for="sort" { "Order" }
                select #sort name="sort" {
                    option value="asc" selected[!listing.descending] { "Ascending" }
                    option value="desc" selected[listing.descending] { "Descending" }
                }
            }
            div.field {
                label for="per_page" { "Per page" }
                select #per_page name="per_page" {
                    @for n in &sizes {
                        option value=(n) selected[listing.per_page == *n] { (n) }
                    }
                }
            }
            div.filter-actions {
                button type="submit" { "Apply" }
                a href=(base) { "Clear" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Vec<Arc<dyn PackageFormat>> {
        Vec::new()
    }

    #[test]
    fn garbage_query_values_fall_back_to_the_defaults() {
        let s = state();
        let l = Listing::parse(
            "page=-3&per_page=1000&order_by=drop&sort=sideways&status=gone&format=nope&search=%20",
            &s,
            false,
        );
        assert_eq!(l, Listing::parse("", &s, false));
        assert_eq!(l.page, 1);
        assert_eq!(l.per_page, DEFAULT_PER_PAGE);
        assert_eq!(l.order_by, OrderBy::CreatedAt);
        assert!(l.descending, "newest first by default");
        assert_eq!(l.url("/a/b/-/packages"), "/a/b/-/packages");
    }

    #[test]
    fn project_path_order_is_for_groups_only() {
        let s = state();
        assert_eq!(
            Listing::parse("order_by=project_path", &s, false).order_by,
            OrderBy::CreatedAt
        );
        let g = Listing::parse("order_by=project_path", &s, true);
        assert_eq!(g.order_by, OrderBy::ProjectPath);
        assert!(!g.descending);
    }

    #[test]
    fn urls_keep_every_choice_and_leave_defaults_out() {
        let s = state();
        let l = Listing::parse(
            "package_name=core+lib&status=hidden&order_by=name&sort=desc&per_page=50&page=3",
            &s,
            true,
        );
        assert_eq!(l.search, "core lib");
        assert_eq!(
            l.url("/groups/g/-/packages"),
            "/groups/g/-/packages?search=core%20lib&status=hidden&order_by=name&sort=desc&per_page=50&page=3"
        );
        assert_eq!(Listing::parse(&l.url("")[1..], &s, true), l);
    }

    #[test]
    fn group_crumbs_link_every_ancestor() {
        let c = group_crumbs("a/b/p", 1);
        let got: Vec<(&str, &str)> = c
            .iter()
            .map(|c| (c.text.as_str(), c.href.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("a", "/groups/a/-/packages"),
                ("b", "/groups/a/b/-/packages")
            ]
        );
    }
}
