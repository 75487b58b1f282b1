//! The package registry listings of projects and groups, as a browser sees them: who sees
//! which page (and the 404 page for the rest), the rows, search, filters, order, pages, and
//! the links that keep every choice (actix test service over SQLite in a temporary folder).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use packyard_core::credentials;
use packyard_core::model::*;
use packyard_core::ports::{DuplicatePolicy, PublishFile};
use packyard_core::Registry;
use packyard_web::WebConfig;
use support::{
    add_member, app, cookie_from, get, location, new_group, new_project, seed, sign_in, user,
    Format, Web, PASSWORD,
};

struct World {
    web: Web,
    users: Vec<(String, User)>,
    /// `full_path` → project.
    projects: Vec<Project>,
    packages: Vec<Package>,
}

support::deref_web!(World);

impl World {
    fn user(&self, name: &str) -> &User {
        &self.users.iter().find(|(n, _)| n == name).unwrap().1
    }
    fn project(&self, path: &str) -> &Project {
        self.projects.iter().find(|p| p.full_path == path).unwrap()
    }
    fn package(&self, name: &str, version: &str) -> &Package {
        self.packages
            .iter()
            .find(|p| p.name == name && p.version == version)
            .unwrap()
    }
    /// A session cookie for `name`, as signing in would set it.
    async fn session(&self, name: &str) -> Cookie<'static> {
        self.web.session(self.user(name)).await
    }
}

async fn publish(
    registry: &Registry,
    project: &Project,
    format: &str,
    name: &str,
    version: &str,
    status: PackageStatus,
) -> Package {
    let n = rand_hex();
    let (pkg, _) = registry
        .catalog()
        .publish_file(PublishFile {
            package: NewPackage {
                project_id: project.id,
                format: format.into(),
                name: name.into(),
                normalized_name: name.to_lowercase(),
                version: version.into(),
                status,
                metadata: serde_json::json!({}),
            },
            status_override: None,
            file_name: format!("{name}-{version}.tgz"),
            digests: BlobDigests {
                size: 10,
                sha256: n.clone(),
                sha1: n[..40].into(),
                md5: n[..32].into(),
                sha512: format!("{n}{n}"),
            },
            file_metadata: serde_json::json!({}),
            build: None,
            user_id: None,
            duplicates: DuplicatePolicy::Allow,
        })
        .await
        .unwrap();
    // Distinct creation times, so the default order (newest first) is deterministic.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(3)).await;
    pkg
}

fn rand_hex() -> String {
    credentials::digest(&credentials::new_secret(""))
}

/// acme (private) with acme/tools; projects acme/web, acme/tools/cli, acme/open (private,
/// "allow anyone to pull"), acme/off (registry disabled); oss (public) with oss/lib (public,
/// no packages). maria Maintainer, dave Developer, olga Owner of acme; rita Reporter of
/// acme/tools/cli only; gus Guest of acme/web only; root an admin.
async fn world(maria_password: bool) -> World {
    let seed = seed(None).await;
    let registry = &seed.registry;
    let catalog = registry.catalog();
    let mut users = Vec::new();
    for name in ["maria", "dave", "olga", "rita", "gus", "root"] {
        let password = (maria_password && name == "maria").then_some(PASSWORD);
        let user = user(registry, name, name == "root", password).await;
        users.push((name.to_owned(), user));
    }
    let group = |path: &str, parent: Option<GroupId>, visibility| {
        new_group(&path.to_uppercase(), path, parent, visibility)
    };
    let acme = registry
        .create_group(group("acme", None, Visibility::Private))
        .await
        .unwrap();
    let tools = registry
        .create_group(group("tools", Some(acme.id), Visibility::Private))
        .await
        .unwrap();
    let oss = registry
        .create_group(group("oss", None, Visibility::Public))
        .await
        .unwrap();
    let mut projects = Vec::new();
    for (path, ns, visibility, access) in [
        ("web", acme.id, Visibility::Private, RegistryAccess::Enabled),
        (
            "cli",
            tools.id,
            Visibility::Private,
            RegistryAccess::Enabled,
        ),
        ("open", acme.id, Visibility::Private, RegistryAccess::Public),
        (
            "off",
            acme.id,
            Visibility::Private,
            RegistryAccess::Disabled,
        ),
        ("lib", oss.id, Visibility::Public, RegistryAccess::Enabled),
    ] {
        projects.push(
            registry
                .create_project(new_project(
                    &format!("{} app", path.to_uppercase()),
                    path,
                    ns,
                    visibility,
                    access,
                ))
                .await
                .unwrap(),
        );
    }
    let id_of = |n: &str| users.iter().find(|(u, _)| u == n).unwrap().1.id;
    for (name, level) in [
        ("maria", AccessLevel::Maintainer),
        ("dave", AccessLevel::Developer),
        ("olga", AccessLevel::Owner),
    ] {
        add_member(registry, MemberSource::Group(acme.id), id_of(name), level).await;
    }
    for (name, project, level) in [
        ("rita", &projects[1], AccessLevel::Reporter),
        ("gus", &projects[0], AccessLevel::Guest),
    ] {
        add_member(
            registry,
            MemberSource::Project(project.id),
            id_of(name),
            level,
        )
        .await;
    }

    let mut packages = Vec::new();
    use PackageStatus::*;
    for (p, format, name, version, status) in [
        (0, "generic", "web-ui", "1.0.0", Default),
        (0, "generic", "web-ui", "1.1.0", Default),
        (0, "pypi", "web-client", "2.0.0", Default),
        (0, "generic", "web-secret", "0.1.0", Hidden),
        (0, "generic", "web-broken", "0.2.0", Error),
        (1, "generic", "cli-tool", "3.0.0", Default),
        (1, "pypi", "cli-plugin", "0.5.0", Default),
        (2, "generic", "open-data", "1.0.0", Default),
        (3, "generic", "off-thing", "1.0.0", Default),
    ] {
        packages.push(publish(registry, &projects[p], format, name, version, status).await);
    }
    let tagged = packages
        .iter()
        .find(|p| p.name == "web-ui" && p.version == "1.1.0")
        .unwrap()
        .id;
    catalog.set_package_tag(tagged, "stable").await.unwrap();

    let formats = vec![
        Format::plain("generic", "Generic"),
        Format::plain("pypi", "PyPI"),
    ];
    World {
        web: seed.serve(formats, WebConfig::default()).await,
        users,
        projects,
        packages,
    }
}

/// The package names of the table, in order (the text of the links to package pages).
fn rows(html: &str) -> Vec<String> {
    let Some(start) = html.find("<tbody>") else {
        return Vec::new();
    };
    let body = &html[start..html[start..].find("</tbody>").unwrap() + start];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let link = row.find("/-/packages/").unwrap();
            let text = &row[link..];
            let open = text.find('>').unwrap() + 1;
            text[open..open + text[open..].find('<').unwrap()].to_owned()
        })
        .collect()
}

/// The `href` of the link with `rel`, unescaped.
fn rel_href(html: &str, rel: &str) -> Option<String> {
    let marker = format!("rel=\"{rel}\" href=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..start + html[start..].find('"')?].replace("&amp;", "&"))
}

fn assert_not_found(status: StatusCode, html: &str, secret: &str) {
    assert_eq!(status, StatusCode::NOT_FOUND, "{html}");
    assert!(html.contains("Page not found"), "{html}");
    assert!(
        !html.contains(secret),
        "the 404 page names {secret}: {html}"
    );
}

#[actix_web::test]
async fn a_member_signs_in_and_sees_the_project_registry() {
    let w = world(true).await;
    let app = app(&w).await;
    // Anonymous: the private project does not exist.
    let (status, html) = get(&app, "/acme/web/-/packages", None).await;
    assert_not_found(status, &html, "WEB app");

    // Sign in through the form, as a browser does.
    let resp = sign_in(&app, "maria", PASSWORD, "/acme/web/-/packages").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/acme/web/-/packages");
    let session = cookie_from(&resp, "_packyard_session").unwrap();

    let (status, html) = get(&app, "/acme/web/-/packages", Some(&session)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<h1>WEB app</h1>"), "{html}");
    // Newest first; hidden packages are not listed by default, an error one is, with a badge.
    assert_eq!(
        rows(&html),
        ["web-broken", "web-client", "web-ui", "web-ui"]
    );
    assert!(!html.contains("web-secret"));
    assert!(html.contains(">Error</span>"), "{html}");
    let ui = w.package("web-ui", "1.1.0");
    assert!(html.contains(&format!("href=\"/acme/web/-/packages/{}\"", ui.id.0)));
    assert!(html.contains(">1.1.0<"));
    assert!(html.contains("<td>PyPI</td>") && html.contains("<td>Generic</td>"));
    assert!(html.contains(">stable</span>"), "the tag is shown: {html}");
    assert!(html.contains("1–4 of 4 packages"), "{html}");
    assert!(html.contains("<time datetime="));
    // Breadcrumbs: Explore / acme / project / Packages.
    assert!(html.contains("href=\"/explore\">Explore</a>"));
    assert!(html.contains("href=\"/groups/acme/-/packages\">acme</a>"));
    // A Maintainer gets the settings link.
    assert!(html.contains("href=\"/acme/web/-/settings/packages_and_registries\""));
    // The controls are labelled and the form is a GET form back to this page.
    for id in ["search", "format", "status", "order_by", "sort", "per_page"] {
        assert!(
            html.contains(&format!("<label for=\"{id}\">")),
            "label {id}"
        );
    }
    assert!(html.contains("method=\"get\" action=\"/acme/web/-/packages\""));
}

#[actix_web::test]
async fn who_sees_a_project_registry_and_who_gets_the_404_page() {
    let w = world(false).await;
    let app = app(&w).await;
    let dave = w.session("dave").await;
    let gus = w.session("gus").await;
    let rita = w.session("rita").await;
    let root = w.session("root").await;

    // A Developer reads, without the settings link.
    let (status, html) = get(&app, "/acme/web/-/packages", Some(&dave)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&html).len(), 4);
    assert!(!html.contains("settings/packages_and_registries"), "{html}");
    // An admin reads everything and may change settings.
    let (status, html) = get(&app, "/acme/web/-/packages", Some(&root)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("href=\"/acme/web/-/settings/packages_and_registries\""));
    // A Guest of a private project may not read its packages: 404, as for a stranger.
    let (status, html) = get(&app, "/acme/web/-/packages", Some(&gus)).await;
    assert_not_found(status, &html, "web-ui");
    // A Reporter of another project only.
    let (status, html) = get(&app, "/acme/web/-/packages", Some(&rita)).await;
    assert_not_found(status, &html, "web-ui");
    let (status, html) = get(&app, "/acme/tools/cli/-/packages", Some(&rita)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&html), ["cli-plugin", "cli-tool"]);
    // A registry that is disabled is not there, even for a member.
    let (status, html) = get(&app, "/acme/off/-/packages", Some(&dave)).await;
    assert_not_found(status, &html, "off-thing");
    // Unknown projects, numeric ids and odd paths: the 404 page, never an error.
    let id = w.project("acme/web").id.0;
    for uri in [
        "/acme/nope/-/packages".to_string(),
        format!("/{id}/-/packages"),
        "/acme/web/-/packages/-/packages".to_string(),
        "/%2e%2e/-/packages".to_string(),
    ] {
        let (status, html) = get(&app, &uri, Some(&dave)).await;
        assert_not_found(status, &html, "web-ui");
    }

    // "Allow anyone to pull" opens the package-manager routes only: the pages of the
    // private project (its name, its groups, its builds) stay hidden from anonymous
    // visitors, with the option on or off.
    let (status, html) = get(&app, "/acme/open/-/packages", None).await;
    assert_not_found(status, &html, "open-data");
    w.set_anyone_option(false).await;
    let (status, html) = get(&app, "/acme/open/-/packages", None).await;
    assert_not_found(status, &html, "open-data");

    // A public project without packages: the empty state.
    let (status, html) = get(&app, "/oss/lib/-/packages", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("There are no packages in this project yet."),
        "{html}"
    );
    assert!(!html.contains("<table"));
}

#[actix_web::test]
async fn the_group_registry_lists_what_the_visitor_may_read_naming_the_project() {
    let w = world(false).await;
    let app = app(&w).await;
    let maria = w.session("maria").await;
    let olga = w.session("olga").await;
    let rita = w.session("rita").await;

    let (status, html) = get(&app, "/groups/acme/-/packages", Some(&maria)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<h1>ACME</h1>"));
    // Subgroup projects included; the disabled registry and hidden packages are not.
    assert_eq!(
        rows(&html),
        [
            "open-data",
            "cli-plugin",
            "cli-tool",
            "web-broken",
            "web-client",
            "web-ui",
            "web-ui"
        ]
    );
    assert!(!html.contains("off-thing") && !html.contains("web-secret"));
    let cli = w.package("cli-tool", "3.0.0");
    assert!(html.contains(&format!("href=\"/acme/tools/cli/-/packages/{}\"", cli.id.0)));
    assert!(html.contains("<a href=\"/acme/tools/cli/-/packages\">acme/tools/cli</a>"));
    assert!(html.contains(">Project<"), "the project column: {html}");
    // A Maintainer is not the group's Owner: no settings link.
    assert!(!html.contains("settings/packages_and_registries"));
    let (_, html) = get(&app, "/groups/acme/-/packages", Some(&olga)).await;
    assert!(html.contains("href=\"/groups/acme/-/settings/packages_and_registries\""));

    // The subgroup's own page, with crumbs for both groups.
    let (status, html) = get(&app, "/groups/acme/tools/-/packages", Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&html), ["cli-plugin", "cli-tool"]);
    assert!(html.contains("href=\"/groups/acme/-/packages\">acme</a>"));
    assert!(html.contains("href=\"/groups/acme/tools/-/packages\">tools</a>"));

    // A Reporter of one project sees that project's packages only (not those of the
    // private "allow anyone to pull" project, which she may pull but not see).
    let (status, html) = get(&app, "/groups/acme/-/packages", Some(&rita)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&html), ["cli-plugin", "cli-tool"]);

    // Anonymous: a private group whose only readable project is "allow anyone to pull"
    // is not there (that option opens the package-manager routes only), whatever the
    // instance option.
    let (status, html) = get(&app, "/groups/acme/-/packages", None).await;
    assert_not_found(status, &html, "ACME");
    w.set_anyone_option(false).await;
    let (status, html) = get(&app, "/groups/acme/-/packages", None).await;
    assert_not_found(status, &html, "ACME");
    let (status, html) = get(&app, "/groups/nope/-/packages", Some(&maria)).await;
    assert_not_found(status, &html, "nope</h1>");
    let id = w.projects[0].namespace;
    let Namespace::Group(gid) = id else { panic!() };
    let (status, html) = get(&app, &format!("/groups/{}/-/packages", gid.0), Some(&maria)).await;
    assert_not_found(status, &html, "web-ui");
    // A public group without packages: the empty state.
    let (status, html) = get(&app, "/groups/oss/-/packages", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("There are no packages in this group yet"),
        "{html}"
    );
}

#[actix_web::test]
async fn search_filters_order_and_pages_live_in_the_url() {
    let w = world(false).await;
    let app = app(&w).await;
    let maria = w.session("maria").await;
    let group = "/groups/acme/-/packages";
    let page = |q: &str| format!("{group}?{q}");

    // Search by part of the name, case-insensitive; the box keeps the text.
    let (_, html) = get(&app, &page("search=CLI"), Some(&maria)).await;
    assert_eq!(rows(&html), ["cli-plugin", "cli-tool", "web-client"]);
    assert!(html.contains("name=\"search\" value=\"CLI\""));
    // The API's names work too.
    let (_, html) = get(
        &app,
        &page("package_name=plug&package_type=pypi"),
        Some(&maria),
    )
    .await;
    assert_eq!(rows(&html), ["cli-plugin"]);
    // Format filter, with its select showing the choice.
    let (_, html) = get(&app, &page("format=pypi"), Some(&maria)).await;
    assert_eq!(rows(&html), ["cli-plugin", "web-client"]);
    assert!(
        html.contains("<option value=\"pypi\" selected>PyPI</option>"),
        "{html}"
    );
    // Status filter: hidden packages on request, with their badge.
    let (_, html) = get(&app, &page("status=hidden"), Some(&maria)).await;
    assert_eq!(rows(&html), ["web-secret"]);
    assert!(html.contains(">Hidden</span>"));
    // Nothing matches: the empty state says so and offers to clear.
    let (status, html) = get(&app, &page("search=zzz"), Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No packages match these filters."));
    assert!(html.contains(&format!("href=\"{group}\">Clear the filters</a>")));

    // Orders, both ways.
    let (_, html) = get(&app, &page("order_by=name&sort=asc"), Some(&maria)).await;
    assert_eq!(
        rows(&html),
        [
            "cli-plugin",
            "cli-tool",
            "open-data",
            "web-broken",
            "web-client",
            "web-ui",
            "web-ui"
        ]
    );
    let (_, html) = get(&app, &page("order_by=name&sort=desc"), Some(&maria)).await;
    assert_eq!(rows(&html)[0], "web-ui");
    assert!(html.contains("aria-sort=\"descending\""));
    let (_, html) = get(&app, &page("order_by=version&sort=desc"), Some(&maria)).await;
    assert_eq!(rows(&html)[0], "cli-tool", "3.0.0 first: {html}");
    let (_, html) = get(
        &app,
        &page("order_by=type&sort=desc&search=web"),
        Some(&maria),
    )
    .await;
    assert_eq!(rows(&html)[0], "web-client", "pypi after generic");
    let (_, html) = get(&app, &page("order_by=project_path&sort=asc"), Some(&maria)).await;
    let names = rows(&html);
    assert_eq!(
        names[0], "open-data",
        "acme/open < acme/tools/cli < acme/web"
    );
    // Within a project, in publishing order.
    assert_eq!(names.last().unwrap(), "web-broken");
    // created_at ascending: oldest first.
    let (_, html) = get(&app, &page("sort=asc"), Some(&maria)).await;
    assert_eq!(rows(&html)[0], "web-ui");

    // Pages: 3 per page, page 2 in name order, filtered to generic. The pager keeps every
    // other choice.
    let uri = page("format=generic&order_by=name&sort=asc&per_page=2&page=2");
    let (status, html) = get(&app, &uri, Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    // generic, by name: cli-tool, open-data, web-broken, web-ui, web-ui.
    assert_eq!(rows(&html), ["web-broken", "web-ui"]);
    assert!(html.contains("Page 2 of 3"), "{html}");
    assert!(html.contains("3–4 of 5 packages"), "{html}");
    // The column headers sort, keeping the filters and going back to page 1: the current
    // column reverses its order, another starts with its own default.
    assert!(html.contains(&format!(
        "href=\"{group}?format=generic&amp;order_by=name&amp;sort=desc&amp;per_page=2\""
    )));
    assert!(html.contains(&format!(
        "href=\"{group}?format=generic&amp;order_by=version&amp;per_page=2\""
    )));
    assert!(html.contains("aria-sort=\"ascending\""));
    let next = rel_href(&html, "next").unwrap();
    assert_eq!(
        next,
        format!("{group}?format=generic&order_by=name&per_page=2&page=3")
    );
    let (_, html3) = get(&app, &next, Some(&maria)).await;
    assert_eq!(rows(&html3), ["web-ui"]);
    let prev = rel_href(&html, "prev").unwrap();
    assert_eq!(
        prev,
        format!("{group}?format=generic&order_by=name&per_page=2")
    );
    let (_, html1) = get(&app, &prev, Some(&maria)).await;
    assert_eq!(rows(&html1), ["cli-tool", "open-data"]);
    // The same URL shows the same rows to someone else allowed to see them.
    let olga = w.session("olga").await;
    let (_, again) = get(&app, &uri, Some(&olga)).await;
    assert_eq!(rows(&again), ["web-broken", "web-ui"]);
    // Past the end: an empty page that links back to the first.
    let (status, html) = get(&app, &page("per_page=2&page=40"), Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No packages on this page."));
    assert!(html.contains(&format!("href=\"{group}?per_page=2\">Go to the first page")));

    // Values the page cannot use fall back to the defaults: never a 500 or a 400.
    let (status, html) = get(
        &app,
        &page("page=abc&per_page=-5&order_by=%00&sort=up&status=nope&format=rpm&search=&page=2"),
        Some(&maria),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(rows(&html).len(), 7);
    let (status, _) = get(&app, &page("per_page=99999999999999999999"), Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    // project_path is a group order: on a project page it falls back to the default.
    let (status, html) = get(
        &app,
        "/acme/web/-/packages?order_by=project_path",
        Some(&maria),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&html)[0], "web-broken");
}
