//! The registry pages at scale: a group of 50 projects with 200 packages each (10,000), next
//! to a group of 5 projects with as many packages each, on SQLite with the real `DbCatalog`
//! and the real pages, for a signed-in member. Every page must show the right rows and cost
//! the same small number of catalog queries whatever the number of projects, page or filter
//! (access facts, page, count and tags are each one query, never one per project or row).
//! Statements are counted with diesel's instrumentation on every pooled connection. The
//! server time of these pages is measured by `cargo xtask bench web`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use diesel::prelude::*;
use packyard_core::model::*;
use packyard_testkit::scale::{
    analyze, data_queries, insert_packages, record_queries, tag_every_tenth, take_queries,
};
use packyard_web::WebConfig;
use support::{add_member, app, new_group, new_project, seed, user, Format, Svc, Web};

const BIG_PROJECTS: usize = 50;
const SMALL_PROJECTS: usize = 5;
const PER_PROJECT: i64 = 200;
/// What one page may cost (15 today): session and user (2), the group's access facts
/// (group, tree, projects, ancestors, instance settings, memberships: 8), count, page and
/// tags (3), the visitor's role on the group for the settings link (2).
const MAX_QUERIES: usize = 16;

struct World {
    web: Web,
    session: Cookie<'static>,
}

support::deref_web!(World);

/// `big` (50 projects) and `small` (5 projects), private, 200 packages in every project;
/// maria is Maintainer of both.
async fn world() -> World {
    record_queries();
    let seed = seed(None).await;
    let registry = &seed.registry;
    let maria = user(registry, "maria", false, None).await;
    let mut all = Vec::new();
    for (path, count) in [("big", BIG_PROJECTS), ("small", SMALL_PROJECTS)] {
        let group = registry
            .create_group(new_group(
                &path.to_uppercase(),
                path,
                None,
                Visibility::Private,
            ))
            .await
            .unwrap();
        let maintainer = AccessLevel::Maintainer;
        add_member(
            registry,
            MemberSource::Group(group.id),
            maria.id,
            maintainer,
        )
        .await;
        for i in 0..count {
            let path = format!("p{i:02}");
            let project = registry
                .create_project(new_project(
                    &path,
                    &path,
                    group.id,
                    Visibility::Private,
                    RegistryAccess::Enabled,
                ))
                .await
                .unwrap();
            all.push((i, project));
        }
    }
    // Rows straight into the file: 10,000 publishes would only measure the upload path.
    // Package n of project i is created at BASE + n s + i ms, so "newest first" is
    // pkg-00199 of p49, p48, ... Every tenth package has a tag.
    let mut conn = SqliteConnection::establish(&seed.db_path).unwrap();
    for (i, p) in &all {
        insert_packages(&mut conn, p.id.0, PER_PROJECT, *i as i64);
    }
    tag_every_tenth(&mut conn);
    analyze(&mut conn);
    let web = seed
        .serve(
            vec![Format::plain("generic", "Generic")],
            WebConfig::default(),
        )
        .await;
    let session = web.session(&maria).await;
    World { web, session }
}

/// GETs `uri` as maria: the HTML and the data statements the page ran.
async fn get(app: &impl Svc, session: &Cookie<'static>, uri: &str) -> (String, Vec<String>) {
    take_queries();
    let (status, html) = support::get(app, uri, Some(session)).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {html}");
    (html, data_queries(&take_queries()))
}

/// `(name, project path)` of every row of the table, in order.
fn rows(html: &str) -> Vec<(String, String)> {
    let start = html.find("<tbody>").expect("a table");
    let body = &html[start..start + html[start..].find("</tbody>").unwrap()];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            // <a href="/big/p49/-/packages/123">pkg-00199</a>
            let at = row.find("href=\"/").unwrap() + "href=\"/".len();
            let href = &row[at..at + row[at..].find('"').unwrap()];
            let project = href.split("/-/").next().unwrap().to_owned();
            let open = at + row[at..].find('>').unwrap() + 1;
            let name = row[open..open + row[open..].find('<').unwrap()].to_owned();
            (name, project)
        })
        .collect()
}

fn names(rows: &[(String, String)]) -> Vec<&str> {
    rows.iter().map(|(n, _)| n.as_str()).collect()
}

#[actix_web::test]
async fn registry_pages_of_10000_packages_cost_a_few_queries_whatever_the_number_of_projects() {
    let w = world().await;
    let app = app(&w).await;
    let s = &w.session;
    // Warm up once each: later pages may reuse reads the stamp says are current, and each
    // group must be measured in the same state.
    get(&app, s, "/groups/big/-/packages").await;
    get(&app, s, "/groups/small/-/packages").await;

    // The first page of the big group: the 20 newest of 10,000, over all 50 projects.
    let (html, q_big) = get(&app, s, "/groups/big/-/packages").await;
    let r = rows(&html);
    assert_eq!(r.len(), 20);
    let expected: Vec<(String, String)> = (30..BIG_PROJECTS)
        .rev()
        .map(|i| ("pkg-00199".to_string(), format!("big/p{i:02}")))
        .collect();
    assert_eq!(r, expected);
    assert!(html.contains("1–20 of 10000 packages"), "{html}");
    assert!(html.contains("Page 1 of 500"));
    // pkg-00199 of project i has id 200 (i + 1): all tagged, from one batched query.
    assert_eq!(html.matches(">latest</span>").count(), 20);

    // The same page of the small group costs exactly as many queries.
    let (html, q_small) = get(&app, s, "/groups/small/-/packages").await;
    assert_eq!(rows(&html).len(), 20);
    assert!(html.contains("1–20 of 1000 packages"));
    assert_eq!(
        q_big.len(),
        q_small.len(),
        "50 projects cost more than 5:\n{q_big:#?}\nvs\n{q_small:#?}"
    );
    assert!(
        q_big.len() <= MAX_QUERIES,
        "a group page took {} queries: {q_big:#?}",
        q_big.len()
    );
    eprintln!("group page: {} data queries", q_big.len());

    // Page 3 of a filtered, sorted listing: 500 rows named pkg-0015x, by name then id.
    let (html, q_filtered) = get(
        &app,
        s,
        "/groups/big/-/packages?search=pkg-0015&order_by=name&sort=asc&page=3",
    )
    .await;
    let r = rows(&html);
    let mut expected = vec!["pkg-00150"; 10];
    expected.extend(vec!["pkg-00151"; 10]);
    assert_eq!(names(&r), expected);
    // Same name: projects in creation (id) order; rows 41..50 are the last ten projects.
    assert_eq!(r[0].1, "big/p40");
    assert_eq!(r[10].1, "big/p00");
    assert!(html.contains("41–60 of 500 packages"), "{html}");
    assert!(html.contains("Page 3 of 25"));
    assert_eq!(q_filtered.len(), q_big.len(), "{q_filtered:#?}");
    let (_, q_small_filtered) = get(
        &app,
        s,
        "/groups/small/-/packages?search=pkg-0015&order_by=name&sort=asc&page=3",
    )
    .await;
    assert_eq!(q_filtered.len(), q_small_filtered.len());

    // By project path, 100 a page, deep in the listing.
    let (html, q_path) = get(
        &app,
        s,
        "/groups/big/-/packages?order_by=project_path&sort=desc&per_page=100&page=5",
    )
    .await;
    let r = rows(&html);
    assert_eq!(r.len(), 100);
    // p49 holds rows 1..200 (newest id first), p48 201..400: page 5 is rows 401..500 = p47.
    assert!(r.iter().all(|(_, p)| p == "big/p47"), "{r:?}");
    assert_eq!(q_path.len(), q_big.len());

    // A project page: its own 200 packages, newest first, fewer queries than a group page.
    let (html, q_project) = get(&app, s, "/big/p07/-/packages?per_page=100&page=2").await;
    let r = rows(&html);
    let expected: Vec<String> = (0..100).rev().map(|n| format!("pkg-{n:05}")).collect();
    assert_eq!(
        names(&r),
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(r.iter().all(|(_, p)| p == "big/p07"));
    assert!(html.contains("101–200 of 200 packages"));
    assert!(
        q_project.len() <= q_big.len(),
        "a project page took {} queries: {q_project:#?}",
        q_project.len()
    );
    let (_, q_project_small) = get(&app, s, "/small/p01/-/packages").await;
    assert_eq!(q_project.len(), q_project_small.len());
    eprintln!("project page: {} data queries", q_project.len());
}
