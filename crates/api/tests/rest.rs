//! In-process tests of the REST endpoints over the real adapters: `DbCatalog` on SQLite in a
//! temporary folder and `FsBlobStore`, mounted the way the binary mounts them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::{test, web, App};
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{json, Value};

use packyard_core::model::*;
use packyard_core::ports::DuplicatePolicy;
use packyard_core::registry::PublishRequest;
use packyard_core::{Principal, Registry, RegistryConfig};
use packyard_db::DbCatalog;
use packyard_storage::FsBlobStore;

const EXTERNAL: &str = "https://packyard.test";

struct Person {
    user: User,
    token: String,
}

struct World {
    _dir: tempfile::TempDir,
    registry: web::Data<Registry>,
    root: Person,
    maintainer: Person,
    developer: Person,
    reporter: Person,
    outsider: Person,
    group: Group,
    /// `acme/tools`, private.
    project: Project,
    /// `oss/lib`, public.
    public: Project,
}

async fn person(registry: &Registry, username: &str, is_admin: bool, scopes: &[&str]) -> Person {
    let user = registry
        .catalog()
        .create_user(NewUser {
            username: username.into(),
            name: format!("{username} Name"),
            email: format!("{username}@example.test"),
            is_admin,
            password_hash: None,
        })
        .await
        .unwrap();
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    let (token, _) = registry
        .create_personal_access_token(user.id, "test", &scopes, None)
        .await
        .unwrap();
    Person { user, token }
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db =
        DbCatalog::connect(&format!("sqlite://{}/db.sqlite3", dir.path().display()), 4).unwrap();
    db.migrate().await.unwrap();
    let blobs = FsBlobStore::new(dir.path().join("blobs")).unwrap();
    let registry = Registry::new(
        Arc::new(db),
        Arc::new(blobs),
        RegistryConfig {
            external_url: EXTERNAL.into(),
            ..RegistryConfig::default()
        },
    )
    .with_formats(vec![
        Arc::new(Installed("generic", "generic")),
        Arc::new(Installed("npm", "npm")),
        Arc::new(Installed("terraform", "terraform_module")),
    ]);
    let root = person(&registry, "root", true, &["api"]).await;
    let maintainer = person(&registry, "maria", false, &["api"]).await;
    let developer = person(&registry, "dev", false, &["api"]).await;
    let reporter = person(&registry, "rita", false, &["api"]).await;
    let outsider = person(&registry, "olga", false, &["api"]).await;
    let group = registry
        .create_group(NewGroup {
            name: "Acme".into(),
            path: "acme".into(),
            parent_id: None,
            visibility: Visibility::Private,
            description: String::new(),
        })
        .await
        .unwrap();
    let project = registry
        .create_project(NewProject {
            name: "Tools".into(),
            path: "tools".into(),
            namespace: Namespace::Group(group.id),
            visibility: Visibility::Private,
            description: "internal tools".into(),
            registry_access: RegistryAccess::Enabled,
            creator_id: Some(maintainer.user.id),
        })
        .await
        .unwrap();
    for (p, level) in [
        (&maintainer, AccessLevel::Maintainer),
        (&developer, AccessLevel::Developer),
        (&reporter, AccessLevel::Reporter),
    ] {
        registry
            .catalog()
            .add_member(MemberSource::Project(project.id), p.user.id, level, None)
            .await
            .unwrap();
    }
    let oss = registry
        .create_group(NewGroup {
            name: "OSS".into(),
            path: "oss".into(),
            parent_id: None,
            visibility: Visibility::Public,
            description: String::new(),
        })
        .await
        .unwrap();
    let public = registry
        .create_project(NewProject {
            name: "Lib".into(),
            path: "lib".into(),
            namespace: Namespace::Group(oss.id),
            visibility: Visibility::Public,
            description: String::new(),
            registry_access: RegistryAccess::Enabled,
            creator_id: None,
        })
        .await
        .unwrap();
    World {
        _dir: dir,
        registry: web::Data::new(registry),
        root,
        maintainer,
        developer,
        reporter,
        outsider,
        group,
        project,
        public,
    }
}

impl World {
    fn as_user(&self, p: &Person) -> Principal {
        Principal::User {
            user: p.user.clone(),
            scopes: None,
        }
    }

    async fn publish_as(
        &self,
        principal: &Principal,
        name: &str,
        version: &str,
        file: &str,
        status: PackageStatus,
    ) -> (Package, PackageFile) {
        let body = futures_util::stream::iter(vec![Ok(Bytes::from(format!("contents of {file}")))])
            .boxed();
        let req = PublishRequest {
            format: FormatId("generic"),
            name: name.into(),
            normalized_name: name.into(),
            version: version.into(),
            status,
            status_override: None,
            package_metadata: json!({}),
            file_name: file.into(),
            file_metadata: json!({}),
            duplicates: DuplicatePolicy::Allow,
            max_size: None,
        };
        let out = self
            .registry
            .publish(principal, &self.project, req, body)
            .await
            .unwrap();
        // Distinct creation times, so `order_by=created_at` is deterministic.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(3)).await;
        out
    }

    async fn publish(&self, name: &str, version: &str, file: &str) -> (Package, PackageFile) {
        let principal = self.as_user(&self.developer);
        self.publish_as(&principal, name, version, file, PackageStatus::Default)
            .await
    }

    fn packages_url(&self) -> String {
        format!("/api/v4/projects/{}/packages", self.project.id)
    }
}

/// The application as the binary builds it: the packages scope (format routes would come
/// first in it) before the `/api/v4` scope.
macro_rules! app {
    ($w:expr) => {
        test::init_service(
            App::new()
                .app_data($w.registry.clone())
                .service(
                    web::scope("/api/v4/projects/{id}/packages")
                        .configure(packyard_api::configure_project_packages),
                )
                .service(web::scope("/api/v4").configure(packyard_api::configure)),
        )
        .await
    };
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

async fn send<S, B>(app: &S, req: test::TestRequest) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = test::read_body(resp).await;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn get(uri: &str, token: Option<&str>) -> test::TestRequest {
    with_token(test::TestRequest::get().uri(uri), token)
}

fn delete(uri: &str, token: Option<&str>) -> test::TestRequest {
    with_token(test::TestRequest::delete().uri(uri), token)
}

fn with_token(req: test::TestRequest, token: Option<&str>) -> test::TestRequest {
    match token {
        Some(t) => req.insert_header(("PRIVATE-TOKEN", t)),
        None => req,
    }
}

fn names(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}@{}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect()
}

#[actix_web::test]
async fn version_has_three_parts() {
    let w = world().await;
    let app = app!(w);
    let r = send(&app, get("/api/v4/version", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").starts_with("application/json"));
    let version = r.body["version"].as_str().unwrap();
    let parts: Vec<&str> = version.split('.').collect();
    assert_eq!(parts.len(), 3, "{version}");
    assert!(parts.iter().all(|p| p.parse::<u32>().is_ok()), "{version}");
    assert!(r.body["revision"].is_string());
}

#[actix_web::test]
async fn user_requires_a_token() {
    let w = world().await;
    let app = app!(w);

    let r = send(&app, get("/api/v4/user", None)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, json!({ "message": "401 Unauthorized" }));

    let r = send(&app, get("/api/v4/user", Some("glpat-not-a-real-token"))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let r = send(&app, get("/api/v4/user", Some(&w.developer.token))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["id"], w.developer.user.id.0);
    assert_eq!(r.body["username"], "dev");
    assert_eq!(r.body["name"], "dev Name");
    assert_eq!(r.body["email"], "dev@example.test");
    assert_eq!(r.body["state"], "active");
    assert_eq!(r.body["locked"], false);
    assert_eq!(r.body["bot"], false);
    assert_eq!(r.body["external"], false);
    assert_eq!(r.body["avatar_url"], Value::Null);
    assert_eq!(r.body["web_url"], format!("{EXTERNAL}/dev"));
    assert!(r.body["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(
        r.body.get("is_admin").is_none(),
        "is_admin is for admins only"
    );
    assert!(r.body["can_create_group"].is_boolean() && r.body["can_create_project"].is_boolean());

    let r = send(&app, get("/api/v4/user", Some(&w.root.token))).await;
    assert_eq!(r.body["is_admin"], true);

    for (scope, expected) in [
        ("read_user", StatusCode::OK),
        ("read_api", StatusCode::OK),
        ("read_registry", StatusCode::FORBIDDEN),
    ] {
        let (token, _) = w
            .registry
            .create_personal_access_token(w.outsider.user.id, scope, &[scope.to_string()], None)
            .await
            .unwrap();
        let r = send(&app, get("/api/v4/user", Some(&token))).await;
        assert_eq!(r.status, expected, "scope {scope}");
        if expected == StatusCode::FORBIDDEN {
            assert_eq!(r.body["error"], "insufficient_scope");
        }
    }

    let (deploy, _) = w
        .registry
        .create_deploy_token(
            DeployTokenOwner::Project(w.project.id),
            "d",
            None,
            &["read_package_registry".into()],
            None,
        )
        .await
        .unwrap();
    let r = send(
        &app,
        test::TestRequest::get()
            .uri("/api/v4/user")
            .insert_header(("DEPLOY-TOKEN", deploy)),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let build = BuildInfo {
        pipeline_id: 1,
        job_id: 2,
        git_ref: "main".into(),
        sha: "abc".into(),
    };
    let (job, _) = w
        .registry
        .mint_job_token(&w.as_user(&w.developer), &w.project, build, None)
        .await
        .unwrap();
    let r = send(
        &app,
        test::TestRequest::get()
            .uri("/api/v4/user")
            .insert_header(("JOB-TOKEN", job)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["username"], "dev");
}

#[actix_web::test]
async fn project_by_url_encoded_path() {
    let w = world().await;
    let app = app!(w);
    for id in ["acme%2Ftools".to_owned(), w.project.id.to_string()] {
        let r = send(
            &app,
            get(&format!("/api/v4/projects/{id}"), Some(&w.maintainer.token)),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{id}: {}", r.body);
        assert!(r.header("content-type").starts_with("application/json"));
        let b = &r.body;
        assert_eq!(b["id"], w.project.id.0);
        assert_eq!(b["name"], "Tools");
        assert_eq!(b["path"], "tools");
        assert_eq!(b["path_with_namespace"], "acme/tools");
        assert_eq!(b["name_with_namespace"], "Acme / Tools");
        assert_eq!(b["description"], "internal tools");
        assert_eq!(b["visibility"], "private");
        assert_eq!(b["web_url"], format!("{EXTERNAL}/acme/tools"));
        assert_eq!(b["creator_id"], w.maintainer.user.id.0);
        assert_eq!(b["namespace"]["id"], w.group.id.0);
        assert_eq!(b["namespace"]["kind"], "group");
        assert_eq!(b["namespace"]["full_path"], "acme");
        assert_eq!(b["namespace"]["parent_id"], Value::Null);
        assert_eq!(b["packages_enabled"], true);
        assert_eq!(b["package_registry_access_level"], "enabled");
        assert_eq!(
            b["permissions"]["project_access"],
            json!({ "access_level": 40, "notification_level": 3 })
        );
        assert_eq!(b["permissions"]["group_access"], Value::Null);
    }

    // python-gitlab asserts the content type of HEAD /projects/:id.
    let head = with_token(
        test::TestRequest::default().method(actix_web::http::Method::HEAD),
        Some(&w.reporter.token),
    )
    .uri("/api/v4/projects/acme%2Ftools");
    let r = send(&app, head).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").starts_with("application/json"));

    w.registry
        .catalog()
        .set_project_registry_access(w.project.id, RegistryAccess::Disabled)
        .await
        .unwrap();
    let r = send(
        &app,
        get("/api/v4/projects/acme%2Ftools", Some(&w.root.token)),
    )
    .await;
    assert_eq!(r.body["packages_enabled"], false);
    assert_eq!(r.body["package_registry_access_level"], "disabled");
    assert_eq!(
        r.body["permissions"]["project_access"],
        Value::Null,
        "the admin is not a member"
    );
}

#[actix_web::test]
async fn private_project_is_404_for_anonymous_and_non_members() {
    let w = world().await;
    let app = app!(w);
    let not_found = json!({ "message": "404 Project Not Found" });
    for token in [None, Some(w.outsider.token.as_str())] {
        for uri in [
            format!("/api/v4/projects/{}", w.project.id),
            "/api/v4/projects/acme%2Ftools".to_owned(),
        ] {
            let r = send(&app, get(&uri, token)).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri} as {token:?}");
            assert_eq!(r.body, not_found);
        }
        let r = send(&app, get(&w.packages_url(), token)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.body, not_found);
    }
    let r = send(&app, get("/api/v4/projects/999999", Some(&w.root.token))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, not_found);

    let r = send(&app, get("/api/v4/projects/oss%2Flib", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["id"], w.public.id.0);
    assert_eq!(r.body["permissions"]["project_access"], Value::Null);
    let r = send(
        &app,
        get(&format!("/api/v4/projects/{}/packages", w.public.id), None),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!([]));
}

#[actix_web::test]
async fn packages_list_filters_orders_and_paginates_with_headers() {
    let w = world().await;
    let app = app!(w);
    w.publish("alpha", "1.0.0", "a1.txt").await;
    w.publish("beta", "1.0.0", "b1.txt").await;
    w.publish("Alpha-Tools", "2.0.0", "a2.txt").await;
    let url = w.packages_url();
    let tok = Some(w.reporter.token.as_str());

    let r = send(&app, get(&url, tok)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").starts_with("application/json"));
    assert_eq!(
        names(&r.body),
        ["alpha@1.0.0", "beta@1.0.0", "Alpha-Tools@2.0.0"]
    );
    assert_eq!(r.header("x-total"), "3");
    assert_eq!(r.header("x-page"), "1");
    assert_eq!(r.header("x-per-page"), "20");
    assert_eq!(r.header("x-next-page"), "");

    let r = send(&app, get(&format!("{url}?sort=desc"), tok)).await;
    assert_eq!(
        names(&r.body),
        ["Alpha-Tools@2.0.0", "beta@1.0.0", "alpha@1.0.0"]
    );
    let r = send(&app, get(&format!("{url}?order_by=version&sort=desc"), tok)).await;
    assert_eq!(names(&r.body)[0], "Alpha-Tools@2.0.0");
    let r = send(&app, get(&format!("{url}?order_by=name&sort=desc"), tok)).await;
    assert_eq!(names(&r.body)[0], "beta@1.0.0");

    let r = send(&app, get(&format!("{url}?package_name=ALPHA"), tok)).await;
    assert_eq!(
        names(&r.body),
        ["alpha@1.0.0", "Alpha-Tools@2.0.0"],
        "name filter is a case-insensitive substring"
    );
    let r = send(
        &app,
        get(
            &format!("{url}?package_version=1.0.0&include_versionless=true"),
            tok,
        ),
    )
    .await;
    assert_eq!(names(&r.body), ["alpha@1.0.0", "beta@1.0.0"]);
    let r = send(&app, get(&format!("{url}?package_type=generic"), tok)).await;
    assert_eq!(r.body.as_array().unwrap().len(), 3);
    let r = send(&app, get(&format!("{url}?package_type=npm"), tok)).await;
    assert_eq!(r.body, json!([]));
    assert_eq!(r.header("x-total"), "0");
    // An installed format by GitLab's name or by its id; a format not installed is a 400.
    for t in ["terraform_module", "terraform"] {
        let r = send(&app, get(&format!("{url}?package_type={t}"), tok)).await;
        assert_eq!(r.status, StatusCode::OK, "{t}");
        assert_eq!(r.body, json!([]));
    }
    let r = send(&app, get(&format!("{url}?package_type=maven"), tok)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "package_type does not have a valid value");

    let r = send(&app, get(&format!("{url}?sort=asc&per_page=2"), tok)).await;
    assert_eq!(names(&r.body), ["alpha@1.0.0", "beta@1.0.0"]);
    assert_eq!(r.header("x-total"), "3");
    assert_eq!(r.header("x-total-pages"), "2");
    assert_eq!(r.header("x-next-page"), "2");
    assert_eq!(r.header("x-prev-page"), "");
    let link = r.header("link");
    let next = format!(
        "<{EXTERNAL}/api/v4/projects/{}/packages?sort=asc&page=2&per_page=2>; rel=\"next\"",
        w.project.id
    );
    assert!(link.contains(&next), "{link}");
    assert!(link.contains("rel=\"last\""), "{link}");

    let r = send(&app, get(&format!("{url}?sort=asc&per_page=2&page=2"), tok)).await;
    assert_eq!(names(&r.body), ["Alpha-Tools@2.0.0"]);
    assert_eq!(r.header("x-prev-page"), "1");
    assert_eq!(r.header("x-next-page"), "");
}

#[actix_web::test]
async fn package_json_has_gitlab_fields_and_delete_path_only_for_maintainers() {
    let w = world().await;
    let app = app!(w);
    let build = BuildInfo {
        pipeline_id: 77,
        job_id: 701,
        git_ref: "main".into(),
        sha: "c0ffee".into(),
    };
    let (_, token) = w
        .registry
        .mint_job_token(&w.as_user(&w.developer), &w.project, build, None)
        .await
        .unwrap();
    let job = Principal::Job {
        token,
        user: w.developer.user.clone(),
    };
    let (pkg, _) = w
        .publish_as(&job, "hello", "1.0.0", "hello.txt", PackageStatus::Default)
        .await;
    let (older, _) = w.publish("hello", "0.9.0", "hello.txt").await;
    w.publish("other", "1.0.0", "other.txt").await;

    let url = format!("{}/{}", w.packages_url(), pkg.id);
    let r = send(&app, get(&url, Some(&w.maintainer.token))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = &r.body;
    assert_eq!(b["id"], pkg.id.0);
    assert_eq!(b["name"], "hello");
    assert_eq!(b["version"], "1.0.0");
    assert_eq!(b["package_type"], "generic");
    assert_eq!(b["status"], "default");
    assert_eq!(
        b["_links"]["web_path"],
        format!("/acme/tools/-/packages/{}", pkg.id)
    );
    assert_eq!(
        b["_links"]["delete_api_path"],
        format!(
            "{EXTERNAL}/api/v4/projects/{}/packages/{}",
            w.project.id, pkg.id
        )
    );
    let created = b["created_at"].as_str().unwrap();
    assert_eq!(created.len(), "2019-11-27T03:37:38.711Z".len(), "{created}");
    assert!(created.ends_with('Z'));
    assert_eq!(b["last_downloaded_at"], Value::Null);
    assert_eq!(b["tags"], json!([]));
    let pipeline = &b["pipeline"];
    assert_eq!(pipeline["id"], 77);
    assert_eq!(pipeline["iid"], 77);
    assert_eq!(pipeline["project_id"], w.project.id.0);
    assert_eq!(pipeline["sha"], "c0ffee");
    assert_eq!(pipeline["ref"], "main");
    assert_eq!(pipeline["status"], "success");
    assert_eq!(
        pipeline["web_url"],
        format!("{EXTERNAL}/acme/tools/-/pipelines/77")
    );
    assert_eq!(pipeline["user"]["username"], "dev");
    assert_eq!(pipeline["user"]["web_url"], format!("{EXTERNAL}/dev"));
    assert_eq!(b["pipelines"].as_array().unwrap().len(), 1);
    let versions = b["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1, "{versions:?}");
    assert_eq!(versions[0]["id"], older.id.0);
    assert_eq!(versions[0]["version"], "0.9.0");
    assert_eq!(versions[0]["tags"], json!([]));
    assert!(
        versions[0].get("pipelines").is_none(),
        "published without a job: no pipelines"
    );

    // The older version was published without a job token: no pipeline keys at all.
    let r = send(
        &app,
        get(
            &format!("{}/{}", w.packages_url(), older.id),
            Some(&w.maintainer.token),
        ),
    )
    .await;
    assert!(r.body.get("pipeline").is_none() && r.body.get("pipelines").is_none());
    assert_eq!(r.body["versions"][0]["version"], "1.0.0");
    assert_eq!(r.body["versions"][0]["pipelines"][0]["id"], 77);

    for p in [&w.reporter, &w.developer] {
        let r = send(&app, get(&url, Some(&p.token))).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body["_links"].get("delete_api_path").is_none(),
            "{} may not delete",
            p.user.username
        );
        assert!(r.body["_links"]["web_path"].is_string());
        let r = send(&app, get(&w.packages_url(), Some(&p.token))).await;
        assert!(r
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["_links"].get("delete_api_path").is_none()));
    }
    let r = send(&app, get(&w.packages_url(), Some(&w.maintainer.token))).await;
    assert!(r
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["_links"]["delete_api_path"].is_string()));
    assert!(
        r.body
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.get("versions").is_none()),
        "versions: single GET only"
    );
}

#[actix_web::test]
async fn reporter_cannot_delete_package_403() {
    let w = world().await;
    let app = app!(w);
    let (pkg, _) = w.publish("hello", "1.0.0", "hello.txt").await;
    let url = format!("{}/{}", w.packages_url(), pkg.id);
    for p in [&w.reporter, &w.developer] {
        let r = send(&app, delete(&url, Some(&p.token))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", p.user.username);
        assert_eq!(r.body, json!({ "message": "403 Forbidden" }));
    }
    let r = send(&app, delete(&url, None)).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "anonymous on a private project sees nothing"
    );
    let r = send(&app, get(&url, Some(&w.reporter.token))).await;
    assert_eq!(r.status, StatusCode::OK, "the package is still there");
}

#[actix_web::test]
async fn delete_package_then_get_is_404() {
    let w = world().await;
    let app = app!(w);
    let (pkg, _) = w.publish("hello", "1.0.0", "hello.txt").await;
    let (kept, _) = w.publish("hello", "2.0.0", "hello.txt").await;
    let url = format!("{}/{}", w.packages_url(), pkg.id);
    let r = send(&app, delete(&url, Some(&w.maintainer.token))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.body, Value::Null);
    let r = send(&app, get(&url, Some(&w.maintainer.token))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, json!({ "message": "404 Package Not Found" }));
    let r = send(&app, delete(&url, Some(&w.maintainer.token))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(&app, get(&w.packages_url(), Some(&w.maintainer.token))).await;
    assert_eq!(names(&r.body), ["hello@2.0.0"]);
    let r = send(
        &app,
        get(
            &format!("{}/{}", w.packages_url(), kept.id),
            Some(&w.maintainer.token),
        ),
    )
    .await;
    assert_eq!(r.body["versions"], json!([]));

    // A package of another project is not reachable through this one.
    let r = send(
        &app,
        delete(
            &format!("/api/v4/projects/{}/packages/{}", w.public.id, kept.id),
            Some(&w.root.token),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn package_files_list_and_delete() {
    let w = world().await;
    let app = app!(w);
    let (pkg, first) = w.publish("hello", "1.0.0", "hello.tar.gz").await;
    let (_, second) = w.publish("hello", "1.0.0", "hello.sig").await;
    let url = format!("{}/{}/package_files", w.packages_url(), pkg.id);

    let r = send(&app, get(&url, Some(&w.reporter.token))).await;
    assert_eq!(r.status, StatusCode::OK);
    let files = r.body.as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(r.header("x-total"), "2");
    let f = files.iter().find(|f| f["id"] == first.id.0).unwrap();
    assert_eq!(f["package_id"], pkg.id.0);
    assert_eq!(f["file_name"], "hello.tar.gz");
    assert_eq!(f["size"], json!("contents of hello.tar.gz".len()));
    assert!(f["size"].is_i64());
    assert_eq!(f["file_sha256"], first.sha256);
    assert_eq!(f["file_md5"], first.md5);

    let r = send(
        &app,
        get(&format!("{url}?per_page=1"), Some(&w.reporter.token)),
    )
    .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(r.header("x-total-pages"), "2");
    assert!(r.header("link").contains(&format!(
        "<{EXTERNAL}{url}?page=2&per_page=1>; rel=\"next\""
    )));

    let file_url = format!("{url}/{}", second.id);
    let r = send(&app, delete(&file_url, Some(&w.reporter.token))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(&app, delete(&file_url, Some(&w.maintainer.token))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = send(&app, get(&url, Some(&w.reporter.token))).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(r.body[0]["id"], first.id.0);
    let r = send(&app, delete(&file_url, Some(&w.maintainer.token))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(
        &app,
        get(
            &format!("{}/999999/package_files", w.packages_url()),
            Some(&w.reporter.token),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, json!({ "message": "404 Package Not Found" }));
}

#[actix_web::test]
async fn hidden_package_not_listed_by_default_but_with_status_filter() {
    let w = world().await;
    let app = app!(w);
    w.publish("shown", "1.0.0", "a.txt").await;
    let dev = w.as_user(&w.developer);
    let (hidden, _) = w
        .publish_as(&dev, "secret", "1.0.0", "s.txt", PackageStatus::Hidden)
        .await;
    let url = w.packages_url();
    let tok = Some(w.maintainer.token.as_str());

    let r = send(&app, get(&url, tok)).await;
    assert_eq!(names(&r.body), ["shown@1.0.0"]);
    let r = send(&app, get(&format!("{url}?status=hidden"), tok)).await;
    assert_eq!(names(&r.body), ["secret@1.0.0"]);
    assert_eq!(r.body[0]["status"], "hidden");
    assert!(
        r.body[0]["_links"].get("web_path").is_none(),
        "web_path: detailed statuses only"
    );
    assert!(r.body[0]["_links"]["delete_api_path"].is_string());

    let r = send(&app, get(&format!("{url}/{}", hidden.id), tok)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, json!({ "message": "404 Package Not Found" }));
    let r = send(
        &app,
        get(&format!("{url}/{}/package_files", hidden.id), tok),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = send(&app, get(&format!("{url}?status=invisible"), tok)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({ "error": "status does not have a valid value" })
    );
}

#[actix_web::test]
async fn job_token_minted_by_developer_and_refused_for_reporter() {
    let w = world().await;
    let app = app!(w);
    let uri = format!("/api/v4/projects/{}/ci/job_token", w.project.id);
    let post = |token: Option<&str>| with_token(test::TestRequest::post().uri(&uri), token);
    let params = json!({ "pipeline_id": 12, "job_id": "345", "ref": "main", "sha": "deadbeef" });

    let r = send(&app, post(Some(&w.developer.token)).set_json(&params)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["project_id"], w.project.id.0);
    assert_eq!(r.body["pipeline_id"], 12);
    assert_eq!(r.body["job_id"], 345);
    assert_eq!(r.body["ref"], "main");
    assert_eq!(r.body["sha"], "deadbeef");
    assert!(r.body["id"].is_i64());
    assert!(r.body["expires_at"].as_str().unwrap().ends_with('Z'));
    let secret = r.body["token"].as_str().unwrap().to_owned();
    let r = send(
        &app,
        test::TestRequest::get()
            .uri("/api/v4/user")
            .insert_header(("JOB-TOKEN", secret.clone())),
    )
    .await;
    assert_eq!(r.body["username"], "dev");
    let r = send(
        &app,
        test::TestRequest::get()
            .uri(&w.packages_url())
            .insert_header(("JOB-TOKEN", secret)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);

    // Parameters merged from the query string and a form body, through the URL-encoded path.
    let req = with_token(
        test::TestRequest::post()
            .uri("/api/v4/projects/acme%2Ftools/ci/job_token?pipeline_id=5&job_id=6"),
        Some(&w.maintainer.token),
    )
    .set_form([("ref", "release"), ("sha", "abc123")]);
    let r = send(&app, req).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (r.body["pipeline_id"].clone(), r.body["ref"].clone()),
        (json!(5), json!("release"))
    );

    let r = send(
        &app,
        post(Some(&w.developer.token)).set_json(json!({ "job_id": 1, "ref": "main", "sha": "x" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body, json!({ "error": "pipeline_id is missing" }));
    let r = send(
        &app,
        post(Some(&w.developer.token))
            .set_json(json!({ "pipeline_id": "twelve", "job_id": 1, "ref": "main", "sha": "x" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body, json!({ "error": "pipeline_id is invalid" }));
    let r = send(
        &app,
        post(Some(&w.developer.token))
            .insert_header(("content-type", "application/json"))
            .set_payload("{not json"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = send(&app, post(Some(&w.reporter.token)).set_json(&params)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body, json!({ "message": "403 Forbidden" }));
    let r = send(&app, post(Some(&w.outsider.token)).set_json(&params)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(&app, post(None).set_json(&params)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, json!({ "message": "401 Unauthorized" }));
}

#[actix_web::test]
async fn bad_package_id_is_404_not_500() {
    let w = world().await;
    let app = app!(w);
    let (pkg, file) = w.publish("hello", "1.0.0", "hello.txt").await;
    let base = w.packages_url();
    let tok = Some(w.maintainer.token.as_str());
    for uri in [
        format!("{base}/abc"),
        format!("{base}/-1"),
        format!("{base}/99999999999999999999999"),
        format!("{base}/1.5"),
        format!("{base}/abc/package_files"),
    ] {
        let r = send(&app, get(&uri, tok)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}: {}", r.body);
        assert_eq!(
            r.body,
            json!({ "message": "404 Package Not Found" }),
            "{uri}"
        );
    }
    for uri in [
        format!("{base}/abc"),
        format!("{base}/abc/package_files/{}", file.id),
        format!("{base}/{}/package_files/xyz", pkg.id),
        format!("{base}/{}/package_files/99999999999999999999", pkg.id),
    ] {
        let r = send(&app, delete(&uri, tok)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}: {}", r.body);
        assert!(r.body["message"].as_str().unwrap().starts_with("404"));
    }
    let r = send(
        &app,
        get("/api/v4/projects/no%2Fsuch%2Fproject/packages/1", tok),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, json!({ "message": "404 Project Not Found" }));
    // A method the resource does not serve is GitLab-shaped too.
    let r = send(
        &app,
        with_token(
            test::TestRequest::put().uri(&format!("{base}/{}", pkg.id)),
            tok,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.body["message"].is_string());
}

#[actix_web::test]
async fn bad_order_by_is_400() {
    let w = world().await;
    let app = app!(w);
    w.publish("hello", "1.0.0", "hello.txt").await;
    let url = w.packages_url();
    let tok = Some(w.reporter.token.as_str());
    let cases = [
        (
            "order_by=size",
            json!({ "error": "order_by does not have a valid value" }),
        ),
        (
            "sort=sideways",
            json!({ "error": "sort does not have a valid value" }),
        ),
        (
            // `cargo` is a Packyard format, so only an unknown type is refused.
            "package_type=crates",
            json!({ "error": "package_type does not have a valid value" }),
        ),
        ("per_page=lots", json!({ "error": "per_page is invalid" })),
        ("page=0", json!({ "error": "page is invalid" })),
    ];
    for (query, expected) in cases {
        let r = send(&app, get(&format!("{url}?{query}"), tok)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(r.body, expected, "{query}");
    }
    let r = send(&app, get(&format!("{url}?page=1&page=2"), tok)).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a duplicated parameter is a 400, not a 500"
    );
    assert!(r.body["error"].as_str().unwrap().contains("is invalid"));
    let r = send(
        &app,
        get(&format!("{url}/{}/package_files?per_page=-3", 1), tok),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

/// An installed format as the API sees one: an id and GitLab's `package_type` name.
struct Installed(&'static str, &'static str);

impl packyard_core::PackageFormat for Installed {
    fn id(&self) -> packyard_core::model::FormatId {
        packyard_core::model::FormatId(self.0)
    }
    fn display_name(&self) -> &'static str {
        self.0
    }
    fn normalize_name(&self, name: &str) -> Result<String, packyard_core::FormatError> {
        Ok(name.to_owned())
    }
    fn compare_versions(&self, a: &str, b: &str) -> std::cmp::Ordering {
        a.cmp(b)
    }
    fn configure_project(&self, _cfg: &mut actix_web::web::ServiceConfig) {}
    fn snippets(&self, _ctx: &packyard_core::SnippetContext<'_>) -> Vec<packyard_core::Snippet> {
        Vec::new()
    }
    fn gitlab_package_type(&self) -> &'static str {
        self.1
    }
}
