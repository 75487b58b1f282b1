//! In-process tests of the management API over the real adapters (SQLite in a temporary
//! folder, filesystem blobs): who may see and change what, and the error each refusal gets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{test, web, App};
use serde_json::{json, Value};

use packyard_core::model::*;
use packyard_core::{Registry, RegistryConfig};
use packyard_db::DbCatalog;
use packyard_storage::FsBlobStore;

struct Person {
    user: User,
    token: String,
}

struct World {
    _dir: tempfile::TempDir,
    registry: web::Data<Registry>,
    root: Person,
    owner: Person,
    maintainer: Person,
    developer: Person,
    reader: Person,
    outsider: Person,
    group: Group,
    project: Project,
}

async fn person(registry: &Registry, username: &str, is_admin: bool, scopes: &[&str]) -> Person {
    let user = registry
        .catalog()
        .create_user(NewUser {
            username: username.into(),
            name: username.into(),
            email: format!("{username}@example.test"),
            is_admin,
            password_hash: None,
        })
        .await
        .unwrap();
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    let (token, _) = registry
        .create_personal_access_token(user.id, "t", &scopes, None)
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
            external_url: "https://packyard.test".into(),
            ..RegistryConfig::default()
        },
    );
    let root = person(&registry, "root", true, &["api"]).await;
    let owner = person(&registry, "owen", false, &["api"]).await;
    let maintainer = person(&registry, "mia", false, &["api"]).await;
    let developer = person(&registry, "dev", false, &["api"]).await;
    let reader = person(&registry, "reed", false, &["read_api"]).await;
    let outsider = person(&registry, "olga", false, &["api"]).await;
    let group = registry
        .create_group_as(
            &owner.user,
            NewGroup {
                name: "Secret".into(),
                path: "secret".into(),
                parent_id: None,
                visibility: Visibility::Private,
                description: String::new(),
            },
        )
        .await
        .unwrap();
    let project = registry
        .create_project(NewProject {
            name: "Vault".into(),
            path: "vault".into(),
            namespace: Namespace::Group(group.id),
            visibility: Visibility::Private,
            description: String::new(),
            registry_access: RegistryAccess::Enabled,
            creator_id: None,
        })
        .await
        .unwrap();
    for (p, level) in [
        (&maintainer, AccessLevel::Maintainer),
        (&developer, AccessLevel::Developer),
        (&reader, AccessLevel::Reporter),
    ] {
        registry
            .catalog()
            .add_member(MemberSource::Project(project.id), p.user.id, level, None)
            .await
            .unwrap();
    }
    World {
        _dir: dir,
        registry: web::Data::new(registry),
        root,
        owner,
        maintainer,
        developer,
        reader,
        outsider,
        group,
        project,
    }
}

macro_rules! app {
    ($w:expr) => {
        test::init_service(
            App::new()
                .app_data($w.registry.clone())
                .service(web::scope("/api/v4").configure(packyard_api::configure)),
        )
        .await
    };
}

async fn send<S, B>(app: &S, req: test::TestRequest) -> (StatusCode, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status();
    let bytes = test::read_body(resp).await;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body)
}

fn req(method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> test::TestRequest {
    let mut r = match method {
        "GET" => test::TestRequest::get(),
        "POST" => test::TestRequest::post(),
        "PUT" => test::TestRequest::put(),
        "DELETE" => test::TestRequest::delete(),
        other => panic!("method {other}"),
    }
    .uri(uri);
    if let Some(t) = token {
        r = r.insert_header(("PRIVATE-TOKEN", t));
    }
    if let Some(b) = body {
        r = r.set_json(b);
    }
    r
}

#[actix_web::test]
async fn what_a_caller_may_not_see_is_404_and_what_it_may_not_change_is_403() {
    let w = world().await;
    let app = app!(w);
    let p = format!("/api/v4/projects/{}", w.project.id);
    let g = format!("/api/v4/groups/{}", w.group.id);
    // Outsiders and anonymous callers do not see the private group or project.
    for token in [None, Some(w.outsider.token.as_str())] {
        let (s, b) = send(&app, req("GET", &g, token, None)).await;
        assert_eq!(
            (s, &b["message"]),
            (StatusCode::NOT_FOUND, &json!("404 Group Not Found"))
        );
        let (s, _) = send(&app, req("GET", &format!("{p}/members"), token, None)).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    // A project member sees the group above it (and its project), not its settings.
    let (s, _) = send(&app, req("GET", &g, Some(&w.developer.token), None)).await;
    assert_eq!(s, StatusCode::OK);
    let rename = Some(json!({"name": "x"}));
    let (s, _) = send(
        &app,
        req("PUT", &g, Some(&w.developer.token), rename.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = send(
        &app,
        req("PUT", &p, Some(&w.developer.token), rename.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b) = send(&app, req("PUT", &p, Some(&w.maintainer.token), rename)).await;
    assert_eq!((s, &b["name"]), (StatusCode::OK, &json!("x")));
    // Only Owners delete; the group Owner is Owner of its projects.
    let (s, _) = send(&app, req("DELETE", &p, Some(&w.maintainer.token), None)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // read_api may read but not write; anonymous writes are 401.
    let (s, _) = send(&app, req("GET", &p, Some(&w.reader.token), None)).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = send(
        &app,
        req(
            "POST",
            "/api/v4/projects",
            Some(&w.reader.token),
            Some(json!({"name": "n"})),
        ),
    )
    .await;
    assert_eq!(
        (s, &b["error"]),
        (StatusCode::FORBIDDEN, &json!("insufficient_scope"))
    );
    let (s, _) = send(
        &app,
        req(
            "POST",
            "/api/v4/groups",
            None,
            Some(json!({"name": "n", "path": "n"})),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, b) = send(&app, req("DELETE", &p, Some(&w.owner.token), None)).await;
    assert_eq!(
        (s, &b["message"]),
        (StatusCode::ACCEPTED, &json!("202 Accepted"))
    );
}

#[actix_web::test]
async fn members_only_an_owner_grants_owner_and_duplicates_conflict() {
    let w = world().await;
    let app = app!(w);
    let members = format!("/api/v4/projects/{}/members", w.project.id);
    let add = |level: i64| Some(json!({"user_id": w.outsider.user.id.0, "access_level": level}));
    let (s, _) = send(
        &app,
        req("POST", &members, Some(&w.developer.token), add(10)),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = send(
        &app,
        req("POST", &members, Some(&w.maintainer.token), add(50)),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b) = send(
        &app,
        req("POST", &members, Some(&w.maintainer.token), add(15)),
    )
    .await;
    assert_eq!(
        (s, &b["error"]),
        (
            StatusCode::BAD_REQUEST,
            &json!("access_level does not have a valid value")
        )
    );
    let (s, b) = send(
        &app,
        req("POST", &members, Some(&w.maintainer.token), add(20)),
    )
    .await;
    assert_eq!((s, &b["access_level"]), (StatusCode::CREATED, &json!(20)));
    let (s, b) = send(
        &app,
        req("POST", &members, Some(&w.maintainer.token), add(20)),
    )
    .await;
    assert_eq!(
        (s, &b["message"]),
        (StatusCode::CONFLICT, &json!("Member already exists"))
    );
    let (s, _) = send(
        &app,
        req(
            "POST",
            &members,
            Some(&w.owner.token),
            Some(json!({"user_id": 999_999, "access_level": 30})),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, b) = send(
        &app,
        req(
            "POST",
            &members,
            Some(&w.owner.token),
            Some(json!({"access_level": 30})),
        ),
    )
    .await;
    assert_eq!(
        (s, &b["error"]),
        (StatusCode::BAD_REQUEST, &json!("user_id is missing"))
    );
    // The group Owner shows up, inherited, in the project's members/all.
    let (s, b) = send(
        &app,
        req(
            "GET",
            &format!("{members}/all"),
            Some(&w.developer.token),
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let owen = b
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "owen")
        .expect("inherited owner listed");
    assert_eq!(owen["access_level"], 50);
}

#[actix_web::test]
async fn personal_access_tokens_of_others_are_401_and_admins_see_404_for_missing() {
    let w = world().await;
    let app = app!(w);
    let (_, mine) = send(
        &app,
        req(
            "GET",
            "/api/v4/personal_access_tokens/self",
            Some(&w.developer.token),
            None,
        ),
    )
    .await;
    let id = mine["id"].as_i64().unwrap();
    let (s, _) = send(
        &app,
        req(
            "GET",
            &format!("/api/v4/personal_access_tokens/{id}"),
            Some(&w.outsider.token),
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = send(
        &app,
        req(
            "DELETE",
            &format!("/api/v4/personal_access_tokens/{id}"),
            Some(&w.outsider.token),
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, b) = send(
        &app,
        req(
            "GET",
            &format!("/api/v4/personal_access_tokens/{id}"),
            Some(&w.root.token),
            None,
        ),
    )
    .await;
    assert_eq!(
        (s, &b["user_id"]),
        (StatusCode::OK, &json!(w.developer.user.id.0))
    );
    assert!(
        b.get("token").is_none(),
        "a listed token never shows its secret: {b}"
    );
    let (s, _) = send(
        &app,
        req(
            "GET",
            "/api/v4/personal_access_tokens/999999",
            Some(&w.root.token),
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Only admins create tokens for users; scopes are checked.
    let uri = format!(
        "/api/v4/users/{}/personal_access_tokens",
        w.developer.user.id
    );
    let (s, _) = send(
        &app,
        req(
            "POST",
            &uri,
            Some(&w.developer.token),
            Some(json!({"name": "x", "scopes": ["api"]})),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b) = send(
        &app,
        req(
            "POST",
            &uri,
            Some(&w.root.token),
            Some(json!({"name": "x", "scopes": ["root_powers"]})),
        ),
    )
    .await;
    assert_eq!(
        (s, &b["error"]),
        (
            StatusCode::BAD_REQUEST,
            &json!("scopes does not have a valid value")
        )
    );
    let (s, b) = send(
        &app,
        req(
            "POST",
            &uri,
            Some(&w.root.token),
            Some(json!({"name": "x"})),
        ),
    )
    .await;
    assert_eq!(
        (s, &b["error"]),
        (StatusCode::BAD_REQUEST, &json!("scopes is missing"))
    );
    // Revoking itself works with any scope, and then the token is refused.
    let (s, _) = send(
        &app,
        req(
            "DELETE",
            "/api/v4/personal_access_tokens/self",
            Some(&w.reader.token),
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = send(
        &app,
        req("GET", "/api/v4/user", Some(&w.reader.token), None),
    )
    .await;
    assert_eq!(
        (s, &b["error"]),
        (StatusCode::UNAUTHORIZED, &json!("invalid_token"))
    );
}

#[actix_web::test]
async fn deploy_tokens_need_a_maintainer_and_allowlist_entries_round_trip() {
    let w = world().await;
    let app = app!(w);
    let tokens = format!("/api/v4/projects/{}/deploy_tokens", w.project.id);
    let body =
        Some(json!({"name": "ci", "scopes": "read_package_registry,write_package_registry"}));
    let (s, _) = send(
        &app,
        req("POST", &tokens, Some(&w.developer.token), body.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b) = send(&app, req("POST", &tokens, Some(&w.maintainer.token), body)).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(
        b["scopes"],
        json!(["read_package_registry", "write_package_registry"])
    );
    assert!(b["token"].is_string());
    let id = b["id"].as_i64().unwrap();
    // Another project's token id is not found here.
    let other = format!("/api/v4/groups/{}/deploy_tokens/{id}", w.group.id);
    let (s, _) = send(&app, req("GET", &other, Some(&w.owner.token), None)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = send(
        &app,
        req(
            "GET",
            "/api/v4/deploy_tokens",
            Some(&w.maintainer.token),
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let other = w
        .registry
        .create_project(NewProject {
            name: "Runner".into(),
            path: "runner".into(),
            namespace: Namespace::Group(w.group.id),
            visibility: Visibility::Private,
            description: String::new(),
            registry_access: RegistryAccess::Enabled,
            creator_id: None,
        })
        .await
        .unwrap();
    let allow = format!(
        "/api/v4/projects/{}/job_token_scope/allowlist",
        w.project.id
    );
    let (s, b) = send(
        &app,
        req(
            "POST",
            &allow,
            Some(&w.owner.token),
            Some(json!({"target_project_id": other.id.0})),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(b["target_project_id"], other.id.0);
    let (_, b) = send(&app, req("GET", &allow, Some(&w.owner.token), None)).await;
    assert_eq!(b[0]["path_with_namespace"], "secret/runner");
    let (s, _) = send(
        &app,
        req(
            "DELETE",
            &format!("{allow}/{}", other.id),
            Some(&w.owner.token),
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = send(
        &app,
        req(
            "DELETE",
            &format!("{allow}/{}", other.id),
            Some(&w.owner.token),
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn group_and_project_visibility_stay_within_the_parent() {
    let w = world().await;
    let app = app!(w);
    let (s, b) = send(
        &app,
        req(
            "POST",
            "/api/v4/projects",
            Some(&w.owner.token),
            Some(json!({"name": "Pub", "namespace_id": w.group.id.0, "visibility": "public"})),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    let (s, b) = send(
        &app,
        req("POST", "/api/v4/groups", Some(&w.owner.token), Some(json!({"name": "Sub", "path": "sub", "parent_id": w.group.id.0, "visibility": "internal"}))),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    // A Developer may not create subgroups, but may create projects in the group.
    let (s, _) = send(
        &app,
        req(
            "POST",
            "/api/v4/groups",
            Some(&w.developer.token),
            Some(json!({"name": "Sub", "path": "sub", "parent_id": w.group.id.0})),
        ),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a project member sees the group, may not add to it"
    );
    let (s, b) = send(
        &app,
        req(
            "POST",
            "/api/v4/projects",
            Some(&w.outsider.token),
            Some(json!({"name": "Mine"})),
        ),
    )
    .await;
    assert_eq!(
        (s, &b["path_with_namespace"]),
        (StatusCode::CREATED, &json!("olga/mine"))
    );
    // Narrowing a group below the visibility of a project inside it is refused.
    let (s, _) = send(
        &app,
        req(
            "PUT",
            &format!("/api/v4/groups/{}", w.group.id),
            Some(&w.owner.token),
            Some(json!({"visibility": "public"})),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    send(
        &app,
        req(
            "PUT",
            &format!("/api/v4/projects/{}", w.project.id),
            Some(&w.owner.token),
            Some(json!({"visibility": "public"})),
        ),
    )
    .await;
    let (s, b) = send(
        &app,
        req(
            "PUT",
            &format!("/api/v4/groups/{}", w.group.id),
            Some(&w.owner.token),
            Some(json!({"visibility": "private"})),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["message"]["visibility_level"].is_array(), "{b}");
}

#[actix_web::test]
async fn a_path_taken_in_another_case_is_400_and_lookups_by_path_ignore_case() {
    let w = world().await;
    let app = app!(w);
    let taken = json!({"message": {"path": ["has already been taken"]}});
    // The first step of the takeover in issue 12: `Secret` beside the owner's `secret`.
    let (s, b) = send(
        &app,
        req(
            "POST",
            "/api/v4/groups",
            Some(&w.outsider.token),
            Some(json!({"name": "Mine", "path": "Secret"})),
        ),
    )
    .await;
    assert_eq!((s, &b), (StatusCode::BAD_REQUEST, &taken));
    // A username is a top-level namespace too.
    let (s, b) = send(
        &app,
        req(
            "POST",
            "/api/v4/groups",
            Some(&w.outsider.token),
            Some(json!({"name": "Owen", "path": "OWEN"})),
        ),
    )
    .await;
    assert_eq!((s, &b), (StatusCode::BAD_REQUEST, &taken));
    let (s, b) = send(
        &app,
        req(
            "POST",
            "/api/v4/projects",
            Some(&w.owner.token),
            Some(json!({"name": "Vault", "path": "VAULT", "namespace_id": w.group.id.0})),
        ),
    )
    .await;
    assert_eq!((s, &b), (StatusCode::BAD_REQUEST, &taken));
    // Lookups by path ignore case, and still answer 404 to who may not see.
    let (s, b) = send(
        &app,
        req("GET", "/api/v4/groups/SECRET", Some(&w.owner.token), None),
    )
    .await;
    assert_eq!((s, &b["id"]), (StatusCode::OK, &json!(w.group.id.0)), "{b}");
    let (s, b) = send(
        &app,
        req(
            "GET",
            "/api/v4/projects/Secret%2FVault",
            Some(&w.owner.token),
            None,
        ),
    )
    .await;
    assert_eq!(
        (s, &b["id"]),
        (StatusCode::OK, &json!(w.project.id.0)),
        "{b}"
    );
    let (s, _) = send(
        &app,
        req(
            "GET",
            "/api/v4/groups/SECRET",
            Some(&w.outsider.token),
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The outsider's own groups and projects list nothing of the owner's.
    let (s, _) = send(
        &app,
        req(
            "POST",
            "/api/v4/groups",
            Some(&w.outsider.token),
            Some(json!({"name": "Secre", "path": "secre"})),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    for uri in [
        "/api/v4/groups",
        "/api/v4/projects",
        "/api/v4/groups?all_available=true",
    ] {
        let (s, b) = send(&app, req("GET", uri, Some(&w.outsider.token), None)).await;
        assert_eq!(s, StatusCode::OK);
        let text = b.to_string().to_lowercase();
        assert!(!text.contains("secret"), "{uri}: {b}");
    }
}
