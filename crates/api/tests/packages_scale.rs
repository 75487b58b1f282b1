//! The package listings at scale: 10,000 packages in one project and 50 projects in one
//! group (SQLite, the real `DbCatalog`, the real routes). Every page must be correct, must
//! cost the same number of catalog queries whatever its size or depth (tags, build infos and
//! users are batched, never fetched per package), and the page query must be served from an
//! index, as SQLite's `EXPLAIN QUERY PLAN` shows. Queries are counted with diesel's
//! instrumentation on every pooled connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use actix_web::{test, web, App};
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::Value;

use packyard_core::credentials::Credential;
use packyard_core::model::*;
use packyard_core::{Registry, RegistryConfig, RouteClass};
use packyard_db::DbCatalog;
use packyard_storage::FsBlobStore;
use packyard_testkit::scale::{
    analyze, data_queries, insert_packages, record_queries, tag_every_tenth, take_queries,
};

const PACKAGES: i64 = 10_000;
const PROJECTS: usize = 50;
/// Packages in each of the other 49 projects.
const SMALL: i64 = 20;
/// The rest of the instance: projects of another group, and their packages each. A group is
/// a part of an instance; the planner must find its rows, not read everyone's.
const FOREIGN_PROJECTS: usize = 150;
const FOREIGN: i64 = 300;

#[derive(QueryableByName)]
struct PlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// SQLite's plan for `sql` (its `-- binds` trailer removed; unbound parameters are NULL,
/// which does not change the plan).
fn plan(conn: &mut SqliteConnection, sql: &str) -> String {
    let sql = sql.split(" -- binds:").next().unwrap();
    diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
        .load::<PlanRow>(conn)
        .unwrap()
        .into_iter()
        .map(|r| r.detail)
        .collect::<Vec<_>>()
        .join(" | ")
}

struct World {
    _dir: tempfile::TempDir,
    olga_token: String,
    deploy: String,
    db_path: String,
    registry: web::Data<Registry>,
    token: String,
    big: Project,
}

async fn world() -> World {
    record_queries();
    let dir = tempfile::tempdir().unwrap();
    let db_path = format!("{}/db.sqlite3", dir.path().display());
    let db = DbCatalog::connect(&format!("sqlite://{db_path}"), 4).unwrap();
    db.migrate().await.unwrap();
    let blobs = FsBlobStore::new(dir.path().join("blobs")).unwrap();
    let registry = Registry::new(Arc::new(db), Arc::new(blobs), RegistryConfig::default());
    let user = registry
        .catalog()
        .create_user(NewUser {
            username: "maria".into(),
            name: "Maria".into(),
            email: "maria@example.test".into(),
            is_admin: false,
            password_hash: None,
        })
        .await
        .unwrap();
    let (token, _) = registry
        .create_personal_access_token(user.id, "t", &["api".to_string()], None)
        .await
        .unwrap();
    let group = registry
        .create_group(NewGroup {
            name: "Big".into(),
            path: "big".into(),
            parent_id: None,
            visibility: Visibility::Private,
            description: String::new(),
        })
        .await
        .unwrap();
    registry
        .catalog()
        .add_member(
            MemberSource::Group(group.id),
            user.id,
            AccessLevel::Maintainer,
            None,
        )
        .await
        .unwrap();
    let mut projects = Vec::new();
    for i in 0..PROJECTS {
        projects.push(
            registry
                .create_project(NewProject {
                    name: format!("p{i:02}"),
                    path: format!("p{i:02}"),
                    namespace: Namespace::Group(group.id),
                    visibility: Visibility::Private,
                    description: String::new(),
                    registry_access: RegistryAccess::Enabled,
                    creator_id: None,
                })
                .await
                .unwrap(),
        );
    }
    let elsewhere = registry
        .create_group(NewGroup {
            name: "Elsewhere".into(),
            path: "elsewhere".into(),
            parent_id: None,
            visibility: Visibility::Private,
            description: String::new(),
        })
        .await
        .unwrap();
    // olga: Reporter of p07 and Guest of p08 only (project memberships, no group one).
    let olga = registry
        .catalog()
        .create_user(NewUser {
            username: "olga".into(),
            name: "Olga".into(),
            email: "olga@example.test".into(),
            is_admin: false,
            password_hash: None,
        })
        .await
        .unwrap();
    let (olga_token, _) = registry
        .create_personal_access_token(olga.id, "t", &["api".to_string()], None)
        .await
        .unwrap();
    for (i, level) in [(7, AccessLevel::Reporter), (8, AccessLevel::Guest)] {
        registry
            .catalog()
            .add_member(MemberSource::Project(projects[i].id), olga.id, level, None)
            .await
            .unwrap();
    }
    let deploy = registry
        .create_deploy_token(
            DeployTokenOwner::Project(projects[3].id),
            "reader",
            None,
            &["read_package_registry".to_string()],
            None,
        )
        .await
        .unwrap()
        .0;
    let mut foreign = Vec::new();
    for i in 0..FOREIGN_PROJECTS {
        foreign.push(
            registry
                .create_project(NewProject {
                    name: format!("f{i:03}"),
                    path: format!("f{i:03}"),
                    namespace: Namespace::Group(elsewhere.id),
                    visibility: Visibility::Private,
                    description: String::new(),
                    registry_access: RegistryAccess::Enabled,
                    creator_id: None,
                })
                .await
                .unwrap(),
        );
    }
    // Bulk rows straight into the file: 10,000 packages through the API would only measure
    // the upload path. Each package gets a build (by maria) and every tenth a tag.
    let mut conn = SqliteConnection::establish(&db_path).unwrap();
    for (i, p) in projects.iter().chain(foreign.iter()).enumerate() {
        let n = match i {
            0 => PACKAGES,
            i if i >= PROJECTS => FOREIGN,
            _ => SMALL,
        };
        insert_packages(&mut conn, p.id.0, n, i as i64);
    }
    diesel::sql_query(format!(
        "INSERT INTO package_build_infos (package_id, user_id, pipeline_id, job_id, git_ref, sha, \
         created_at) SELECT id, {uid}, 100000 + id, 200000 + id, 'main', 'abc', created_at \
         FROM packages",
        uid = user.id.0
    ))
    .execute(&mut conn)
    .unwrap();
    tag_every_tenth(&mut conn);
    analyze(&mut conn);
    World {
        _dir: dir,
        olga_token,
        deploy,
        db_path,
        registry: web::Data::new(registry),
        token,
        big: projects.remove(0),
    }
}

/// GETs `uri` as maria; the JSON array, the headers of interest and the data queries run.
async fn get<S>(app: &S, token: &str, uri: &str) -> (Vec<Value>, Option<String>, Vec<String>)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
{
    take_queries();
    let req = test::TestRequest::get()
        .uri(uri)
        .insert_header(("PRIVATE-TOKEN", token))
        .to_request();
    let resp = test::call_service(app, req).await;
    let status = resp.status();
    let total = resp
        .headers()
        .get("x-total")
        .map(|v| v.to_str().unwrap().to_string());
    let body: Value = test::read_body_json(resp).await;
    assert_eq!(status, 200, "{uri}: {body}");
    let queries = data_queries(&take_queries());
    (body.as_array().unwrap().clone(), total, queries)
}

fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect()
}

/// The page query: the one that loads package rows with a LIMIT.
fn page_query(queries: &[String]) -> String {
    queries
        .iter()
        .find(|q| q.contains("FROM `packages`") && q.contains("LIMIT") && !q.contains("COUNT"))
        .unwrap_or_else(|| panic!("no page query among {queries:#?}"))
        .clone()
}

#[actix_web::test]
async fn listing_pages_stay_correct_batched_and_indexed_at_10000_packages_and_50_projects() {
    let w = world().await;
    let app = test::init_service(
        App::new().app_data(w.registry.clone()).service(
            web::scope("/api/v4")
                .service(
                    web::scope("/projects/{id}/packages")
                        .configure(packyard_api::configure_project_packages),
                )
                .configure(packyard_api::configure),
        ),
    )
    .await;
    let project = format!("/api/v4/projects/{}/packages", w.big.id.0);
    let mut plans = SqliteConnection::establish(&w.db_path).unwrap();

    // Warm up: the first use of a token records it (once a minute), not part of a page; the
    // next request reads the token again after that commit, and from then on the registry
    // keeps it under the catalog's change stamp.
    for _ in 0..2 {
        get(&app, &w.token, &format!("{project}?per_page=1")).await;
    }
    // Offset pages, default order (created_at): first, deep, last; small and large pages.
    let (first, total, q_first) = get(&app, &w.token, &format!("{project}?per_page=20")).await;
    assert_eq!(total.as_deref(), Some("10000"));
    assert_eq!(names(&first)[0], "pkg-00000");
    assert_eq!(names(&first)[19], "pkg-00019");
    assert!(first
        .iter()
        .all(|p| p["pipeline"]["user"]["username"] == "maria"));
    for p in &first {
        let tagged = p["id"].as_i64().unwrap() % 10 == 0;
        assert_eq!(
            p["tags"].as_array().unwrap().len(),
            usize::from(tagged),
            "{p}"
        );
    }

    let (deep, _, q_deep) = get(&app, &w.token, &format!("{project}?per_page=100&page=73")).await;
    let expected: Vec<String> = (7200..7300).map(|n| format!("pkg-{n:05}")).collect();
    assert_eq!(names(&deep), expected);
    let (last, _, q_last) = get(&app, &w.token, &format!("{project}?per_page=100&page=100")).await;
    assert_eq!(names(&last).last().map(String::as_str), Some("pkg-09999"));
    let (past, _, _) = get(&app, &w.token, &format!("{project}?per_page=100&page=101")).await;
    assert!(past.is_empty());
    // Batched: the number of queries does not grow with the page size or depth.
    assert_eq!(q_first.len(), q_deep.len(), "{q_first:#?}\nvs\n{q_deep:#?}");
    assert_eq!(q_first.len(), q_last.len());
    assert!(
        q_first.len() <= 16,
        "one page took {} queries: {q_first:#?}",
        q_first.len()
    );
    let p = plan(&mut plans, &page_query(&q_deep));
    eprintln!("project page: {} queries; plan: {p}", q_deep.len());
    assert!(p.contains("USING INDEX packages_project_created"), "{p}");
    assert!(!p.contains("TEMP B-TREE"), "sorted in memory: {p}");

    // Other orders: correct and indexed too.
    let (by_name, _, q_name) = get(
        &app,
        &w.token,
        &format!("{project}?order_by=name&sort=desc&per_page=50&page=3"),
    )
    .await;
    let expected: Vec<String> = (9850..9900).rev().map(|n| format!("pkg-{n:05}")).collect();
    assert_eq!(names(&by_name), expected);
    assert_eq!(q_name.len(), q_first.len());
    let p = plan(&mut plans, &page_query(&q_name));
    assert!(
        p.contains("USING INDEX packages_project_name")
            || p.contains("USING COVERING INDEX packages_project_name"),
        "{p}"
    );
    let (filtered, total, _) = get(
        &app,
        &w.token,
        &format!("{project}?package_name=pkg-0999&per_page=100"),
    )
    .await;
    assert_eq!(total.as_deref(), Some("10"));
    assert_eq!(filtered.len(), 10);

    // The group: 10,000 + 49 × 20 packages over 50 projects.
    let group = "/api/v4/groups/big/packages";
    let (g1, total, q_g1) = get(&app, &w.token, &format!("{group}?per_page=20")).await;
    assert_eq!(
        total, None,
        "more than 10,000 rows: GitLab leaves x-total out"
    );
    assert_eq!(g1.len(), 20);
    assert!(g1.iter().all(|p| p["project_path"]
        .as_str()
        .is_some_and(|s| s.starts_with("big/p"))));
    let (g2, _, q_g2) = get(&app, &w.token, &format!("{group}?per_page=100&page=80")).await;
    assert_eq!(g2.len(), 100);
    assert_eq!(q_g1.len(), q_g2.len(), "{q_g1:#?}\nvs\n{q_g2:#?}");
    assert!(
        q_g1.len() <= 16,
        "a group page took {} queries: {q_g1:#?}",
        q_g1.len()
    );
    // Rows of 50 projects are merged and sorted, but found through the project index.
    let p = plan(&mut plans, &page_query(&q_g2));
    eprintln!("group page: {} queries; plan: {p}", q_g2.len());
    assert!(p.contains("SEARCH packages USING INDEX"), "{p}");
    assert!(!p.contains("SCAN packages"), "full scan: {p}");
    let (by_path, _, q_path) = get(
        &app,
        &w.token,
        &format!("{group}?order_by=project_path&sort=desc&per_page=100"),
    )
    .await;
    assert_eq!(by_path[0]["project_path"], "big/p49");
    assert_eq!(by_path[99]["project_path"], "big/p45");
    assert_eq!(q_path.len(), q_g1.len());
    let (only_top, _, _) = get(
        &app,
        &w.token,
        &format!("{group}?exclude_subgroups=true&package_name=pkg-00001&per_page=100"),
    )
    .await;
    assert_eq!(
        only_top.len(),
        PROJECTS,
        "pkg-00001 exists in every project"
    );

    // The batched access facts of the group listing decide as the per-project policy does.
    let registry = w.registry.get_ref();
    let principals = [
        Credential::PrivateToken(w.token.clone()),
        Credential::PrivateToken(w.olga_token.clone()),
        Credential::DeployToken(w.deploy.clone()),
    ];
    for cred in principals {
        let principal = registry
            .authenticate(Some(cred), RouteClass::Rest)
            .await
            .unwrap();
        let (_, slow) = registry
            .readable_projects_in_group(&principal, "big", RouteClass::Rest)
            .await
            .unwrap();
        let (_, fast) = registry
            .package_access_in_group(&principal, "big", RouteClass::Rest)
            .await
            .unwrap();
        let slow_ids: Vec<ProjectId> = slow.iter().map(|p| p.id).collect();
        let fast_ids: Vec<ProjectId> = fast.iter().map(|a| a.project.id).collect();
        assert_eq!(fast_ids, slow_ids);
        for a in &fast {
            let expected = registry
                .decide(
                    &principal,
                    &a.project,
                    packyard_core::policy::Action::DeletePackage,
                )
                .await
                .unwrap()
                .is_allowed();
            assert_eq!(a.can_delete, expected, "{}", a.project.full_path);
        }
    }
    let olga = registry
        .authenticate(
            Some(Credential::PrivateToken(w.olga_token.clone())),
            RouteClass::Rest,
        )
        .await
        .unwrap();
    let (_, fast) = registry
        .package_access_in_group(&olga, "big", RouteClass::Rest)
        .await
        .unwrap();
    assert_eq!(
        fast.iter()
            .map(|a| a.project.full_path.as_str())
            .collect::<Vec<_>>(),
        ["big/p07"],
        "a Reporter reads a private project, a Guest does not"
    );
    assert!(registry
        .package_access_in_group(
            &packyard_core::Principal::Anonymous,
            "big",
            RouteClass::Rest
        )
        .await
        .is_err());
}
