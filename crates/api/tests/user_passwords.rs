//! The admin's user routes and passwords: hashing goes through the Registry's one bounded
//! `PasswordHasher` (429 with `Retry-After` when it stays busy), and a new password or
//! deleting the user ends the user's web sessions (SQLite in a temporary folder).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{test, web, App};

use packyard_core::model::*;
use packyard_core::passwords::PasswordHasher;
use packyard_core::{Registry, RegistryConfig};
use packyard_db::DbCatalog;
use packyard_storage::FsBlobStore;

struct World {
    _dir: tempfile::TempDir,
    registry: web::Data<Registry>,
    root_token: String,
    alice: User,
    alice_token: String,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db =
        DbCatalog::connect(&format!("sqlite://{}/db.sqlite3", dir.path().display()), 4).unwrap();
    db.migrate().await.unwrap();
    let registry = Registry::new(
        Arc::new(db),
        Arc::new(FsBlobStore::new(dir.path().join("blobs")).unwrap()),
        RegistryConfig::default(),
    )
    .with_password_hasher(PasswordHasher::new(1, Duration::from_millis(50)));
    let mut users = Vec::new();
    for (name, admin) in [("root", true), ("alice", false)] {
        users.push(
            registry
                .catalog()
                .create_user(NewUser {
                    username: name.into(),
                    name: name.into(),
                    email: format!("{name}@example.test"),
                    is_admin: admin,
                    password_hash: None,
                })
                .await
                .unwrap(),
        );
    }
    let (root_token, _) = registry
        .create_personal_access_token(users[0].id, "t", &["api".to_owned()], None)
        .await
        .unwrap();
    let (alice_token, _) = registry
        .create_personal_access_token(users[1].id, "t", &["api".to_owned()], None)
        .await
        .unwrap();
    World {
        _dir: dir,
        alice_token,
        registry: web::Data::new(registry),
        root_token,
        alice: users.remove(1),
    }
}

fn session(user: UserId, digest: &str) -> WebSession {
    WebSession {
        id_digest: digest.into(),
        user_id: user,
        csrf_token: "csrf".into(),
        created_at: 0,
        expires_at: i64::MAX,
    }
}

#[actix_web::test]
async fn user_routes_answer_429_while_the_hasher_is_busy_and_a_new_password_ends_sessions() {
    let w = world().await;
    let app = test::init_service(
        App::new()
            .app_data(w.registry.clone())
            .service(web::scope("/api/v4").configure(packyard_api::configure)),
    )
    .await;
    let put = |password: &str| {
        test::TestRequest::put()
            .uri(&format!("/api/v4/users/{}", w.alice.id.0))
            .insert_header(("PRIVATE-TOKEN", w.root_token.as_str()))
            .set_json(serde_json::json!({ "password": password }))
            .to_request()
    };
    let catalog = w.registry.catalog();
    catalog
        .create_web_session(&session(w.alice.id, "s1"))
        .await
        .unwrap();

    let held = w.registry.passwords().try_hold().unwrap();
    let resp = test::call_service(&app, put("a long new password")).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "2");
    let create = test::TestRequest::post()
        .uri("/api/v4/users")
        .insert_header(("PRIVATE-TOKEN", w.root_token.as_str()))
        .set_json(serde_json::json!({
            "username": "bob", "name": "Bob", "email": "bob@example.test",
            "password": "another long password",
        }))
        .to_request();
    let resp = test::call_service(&app, create).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        catalog.user_by_username("bob").await.unwrap().is_none(),
        "nothing created"
    );
    assert!(
        catalog.web_session("s1", 1).await.unwrap().is_some(),
        "nothing changed yet"
    );
    drop(held);

    let resp = test::call_service(&app, put("a long new password")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        catalog.web_session("s1", 1).await.unwrap(),
        None,
        "the new password signed alice's browsers out"
    );

    let whoami = || {
        test::TestRequest::get()
            .uri("/api/v4/user")
            .insert_header(("PRIVATE-TOKEN", w.alice_token.as_str()))
            .to_request()
    };
    assert_eq!(
        test::call_service(&app, whoami()).await.status(),
        StatusCode::OK
    );
    catalog
        .create_web_session(&session(w.alice.id, "s2"))
        .await
        .unwrap();
    let delete = test::TestRequest::delete()
        .uri(&format!("/api/v4/users/{}", w.alice.id.0))
        .insert_header(("PRIVATE-TOKEN", w.root_token.as_str()))
        .to_request();
    assert_eq!(
        test::call_service(&app, delete).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(catalog.web_session("s2", 1).await.unwrap(), None);
    assert_eq!(
        test::call_service(&app, whoami()).await.status(),
        StatusCode::UNAUTHORIZED,
        "a deleted user's tokens stop working"
    );
}
