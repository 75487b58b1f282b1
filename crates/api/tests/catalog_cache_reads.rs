//! On SQLite, a request that repeats one already answered, with nothing committed since,
//! reads no rows: authentication, authorization and the document's revisions come from what
//! the registry keeps under the catalog's change stamp. After any commit they are read again.
//! Statements are counted with diesel's instrumentation on every connection (alone in this
//! test binary, as the instrumentation is global).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use packyard_testkit::scale::{data_queries, record_queries, take_queries};

use packyard_core::credentials::Credential;
use packyard_core::model::*;
use packyard_core::policy::Action;
use packyard_core::{Registry, RegistryConfig, RouteClass};
use packyard_db::DbCatalog;
use packyard_storage::FsBlobStore;

/// The statements that read or write rows since the last call (the stamp's pragma, the
/// pool's checks and transaction control left out).
fn row_queries() -> Vec<String> {
    data_queries(&take_queries())
}

#[actix_web::test]
async fn a_repeated_request_reads_no_rows_until_something_is_committed() {
    record_queries();
    let dir = tempfile::tempdir().unwrap();
    let db =
        DbCatalog::connect(&format!("sqlite://{}/db.sqlite3", dir.path().display()), 4).unwrap();
    db.migrate().await.unwrap();
    let blobs = FsBlobStore::new(dir.path().join("blobs")).unwrap();
    let registry = Registry::new(Arc::new(db), Arc::new(blobs), RegistryConfig::default());
    let user = registry
        .catalog()
        .create_user(NewUser {
            username: "ann".into(),
            name: "Ann".into(),
            email: "ann@example.test".into(),
            is_admin: false,
            password_hash: None,
        })
        .await
        .unwrap();
    let (secret, _) = registry
        .create_personal_access_token(user.id, "t", &["api".to_owned()], None)
        .await
        .unwrap();
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
            description: String::new(),
            registry_access: RegistryAccess::Enabled,
            creator_id: None,
        })
        .await
        .unwrap();
    registry
        .catalog()
        .add_member(
            MemberSource::Group(group.id),
            user.id,
            AccessLevel::Reporter,
            None,
        )
        .await
        .unwrap();

    // One document request: authenticate, authorize, read the revisions.
    let request = || async {
        let principal = registry
            .authenticate(
                Some(Credential::PrivateToken(secret.clone())),
                RouteClass::Package,
            )
            .await
            .unwrap();
        let project = registry
            .authorize_project(
                &principal,
                "acme%2Ftools",
                Action::ReadPackage,
                RouteClass::Package,
            )
            .await
            .unwrap();
        registry
            .package_revisions(&[project.id], "generic", Some("tool"))
            .await
            .unwrap()
    };

    // The first request reads (and records the token's last use, a commit).
    request().await;
    row_queries();
    request().await;
    assert!(!row_queries().is_empty(), "read again after the commit");
    // The stamp comes from a few connections, each of which may report a commit it had not
    // seen yet once: a handful of requests later, nothing is read at all.
    for _ in 0..8 {
        request().await;
    }
    row_queries();
    for _ in 0..3 {
        request().await;
        assert_eq!(
            row_queries(),
            Vec::<String>::new(),
            "nothing committed since"
        );
    }

    registry
        .catalog()
        .set_project_registry_access(project.id, RegistryAccess::Private)
        .await
        .unwrap();
    row_queries();
    request().await;
    assert!(!row_queries().is_empty(), "read again after a commit");
    for _ in 0..8 {
        request().await;
    }
    row_queries();
    request().await;
    assert_eq!(row_queries(), Vec::<String>::new());
}
