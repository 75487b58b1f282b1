//! The registry keeps the rows every request reads (tokens, users, projects, access facts,
//! document revisions) under the catalog's change stamp (`packyard_core::stamped`). These
//! tests change things through a second `DbCatalog` on the same SQLite file, as another
//! server process would, and check that the very next request of this registry sees the
//! change: a revoked token, a changed visibility, membership or registry setting, a new
//! publish. They fail if anything kept in memory outlives a commit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use actix_web::http::StatusCode;
use serde_json::json;

use packyard_core::credentials::Credential;
use packyard_core::model::*;
use packyard_core::policy::Action;
use packyard_core::ports::{Catalog, DuplicatePolicy, PublishFile};
use packyard_core::registry::now_millis;
use packyard_core::{ApiError, Principal, Registry, RegistryConfig, RouteClass};
use packyard_db::DbCatalog;
use packyard_storage::FsBlobStore;

struct World {
    _dir: tempfile::TempDir,
    /// This process.
    registry: Registry,
    /// Another process on the same database.
    other: DbCatalog,
    /// `oss/lib`, public.
    project: Project,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/db.sqlite3", dir.path().display());
    let db = DbCatalog::connect(&url, 4).unwrap();
    db.migrate().await.unwrap();
    let other = DbCatalog::connect(&url, 2).unwrap();
    let blobs = FsBlobStore::new(dir.path().join("blobs")).unwrap();
    let registry = Registry::new(Arc::new(db), Arc::new(blobs), RegistryConfig::default());
    let group = registry
        .create_group(NewGroup {
            name: "OSS".into(),
            path: "oss".into(),
            parent_id: None,
            visibility: Visibility::Public,
            description: String::new(),
        })
        .await
        .unwrap();
    let project = registry
        .create_project(NewProject {
            name: "Lib".into(),
            path: "lib".into(),
            namespace: Namespace::Group(group.id),
            visibility: Visibility::Public,
            description: String::new(),
            registry_access: RegistryAccess::Enabled,
            creator_id: None,
        })
        .await
        .unwrap();
    World {
        _dir: dir,
        registry,
        other,
        project,
    }
}

impl World {
    async fn user(&self, username: &str) -> (User, String) {
        let user = self
            .other
            .create_user(NewUser {
                username: username.into(),
                name: username.into(),
                email: format!("{username}@example.test"),
                is_admin: false,
                password_hash: None,
            })
            .await
            .unwrap();
        let (secret, _) = self
            .registry
            .create_personal_access_token(user.id, "t", &["api".to_owned()], None)
            .await
            .unwrap();
        (user, secret)
    }

    async fn login(&self, secret: &str) -> Result<Principal, ApiError> {
        self.registry
            .authenticate(
                Some(Credential::PrivateToken(secret.to_owned())),
                RouteClass::Package,
            )
            .await
    }

    /// May `principal` read the project's packages, by id and by path?
    async fn read(&self, principal: &Principal) -> Result<(), StatusCode> {
        let mut outcomes = Vec::new();
        for id in [self.project.id.to_string(), "oss%2Flib".to_owned()] {
            outcomes.push(
                self.registry
                    .authorize_project(principal, &id, Action::ReadPackage, RouteClass::Package)
                    .await
                    .map(drop)
                    .map_err(|e| e.status()),
            );
        }
        assert_eq!(outcomes[0], outcomes[1], "by id and by path");
        outcomes.remove(0)
    }

    async fn update(&self, update: ProjectUpdate) {
        self.other
            .update_project(self.project.id, update)
            .await
            .unwrap()
            .unwrap();
    }

    async fn revisions(&self, name: &str) -> Vec<Revision> {
        self.registry
            .package_revisions(&[self.project.id], "generic", Some(name))
            .await
            .unwrap()
    }

    async fn publish_elsewhere(&self, name: &str, version: &str) -> Package {
        let n = now_millis() as u64;
        self.other
            .publish_file(PublishFile {
                package: NewPackage {
                    project_id: self.project.id,
                    format: "generic".into(),
                    name: name.into(),
                    normalized_name: name.into(),
                    version: version.into(),
                    status: PackageStatus::Default,
                    metadata: json!({}),
                },
                status_override: None,
                file_name: format!("{name}-{version}.bin"),
                digests: BlobDigests {
                    size: 1,
                    sha256: format!("{n:064x}"),
                    sha1: format!("{n:040x}"),
                    md5: format!("{n:032x}"),
                    sha512: format!("{n:0128x}"),
                },
                file_metadata: json!({}),
                build: None,
                user_id: None,
                duplicates: DuplicatePolicy::Allow,
            })
            .await
            .unwrap()
            .0
    }
}

#[actix_web::test]
async fn a_token_revoked_by_another_process_is_refused_on_the_next_request() {
    let w = world().await;
    let (ann, secret) = w.user("ann").await;
    for _ in 0..3 {
        let p = w.login(&secret).await.unwrap();
        assert_eq!(p.user().unwrap().id, ann.id);
    }
    let token = w
        .other
        .personal_access_token_by_digest(&packyard_core::credentials::digest(&secret))
        .await
        .unwrap()
        .unwrap();
    w.other
        .revoke_personal_access_token(token.id)
        .await
        .unwrap();
    assert_eq!(
        w.login(&secret).await.unwrap_err().status(),
        StatusCode::UNAUTHORIZED
    );

    // Revoked through this process's own catalog: the same.
    let (_, second) = w.user("bob").await;
    w.login(&second).await.unwrap();
    let token = w
        .registry
        .catalog()
        .personal_access_token_by_digest(&packyard_core::credentials::digest(&second))
        .await
        .unwrap()
        .unwrap();
    w.registry
        .catalog()
        .revoke_personal_access_token(token.id)
        .await
        .unwrap();
    assert_eq!(
        w.login(&second).await.unwrap_err().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn a_user_deleted_by_another_process_no_longer_authenticates() {
    let w = world().await;
    let (ann, secret) = w.user("ann").await;
    w.login(&secret).await.unwrap();
    w.login(&secret).await.unwrap();
    assert!(w.other.delete_user(ann.id).await.unwrap());
    assert_eq!(
        w.login(&secret).await.unwrap_err().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn an_expired_deploy_token_is_refused_even_while_nothing_is_committed() {
    let w = world().await;
    let expires_at = now_millis() + 1_000;
    let (secret, _) = w
        .registry
        .create_deploy_token(
            DeployTokenOwner::Project(w.project.id),
            "d",
            None,
            &["read_package_registry".to_owned()],
            Some(expires_at),
        )
        .await
        .unwrap();
    let login = || {
        w.registry.authenticate(
            Some(Credential::DeployToken(secret.clone())),
            RouteClass::Package,
        )
    };
    // Read (and kept) while valid, on any machine that is not more than a second late.
    let _ = login().await;
    while now_millis() <= expires_at {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Nothing was committed since: the kept row is checked against the clock again.
    assert_eq!(
        login().await.unwrap_err().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn visibility_membership_and_registry_access_changed_elsewhere_apply_on_the_next_request() {
    let w = world().await;
    let (bob, secret) = w.user("bob").await;
    let bob_p = w.login(&secret).await.unwrap();
    let anonymous = Principal::Anonymous;
    assert_eq!(w.read(&anonymous).await, Ok(()));
    assert_eq!(w.read(&anonymous).await, Ok(()));
    assert_eq!(w.read(&bob_p).await, Ok(()));

    w.update(ProjectUpdate {
        visibility: Some(Visibility::Private),
        ..ProjectUpdate::default()
    })
    .await;
    assert_eq!(w.read(&anonymous).await, Err(StatusCode::UNAUTHORIZED));
    assert_eq!(w.read(&bob_p).await, Err(StatusCode::NOT_FOUND));

    w.other
        .add_member(
            MemberSource::Project(w.project.id),
            bob.id,
            AccessLevel::Reporter,
            None,
        )
        .await
        .unwrap();
    assert_eq!(w.read(&bob_p).await, Ok(()));
    assert_eq!(w.read(&bob_p).await, Ok(()));

    w.update(ProjectUpdate {
        registry_access: Some(RegistryAccess::Disabled),
        ..ProjectUpdate::default()
    })
    .await;
    assert_eq!(w.read(&bob_p).await, Err(StatusCode::FORBIDDEN));
    w.update(ProjectUpdate {
        registry_access: Some(RegistryAccess::Enabled),
        ..ProjectUpdate::default()
    })
    .await;
    assert_eq!(w.read(&bob_p).await, Ok(()));

    assert!(w
        .other
        .remove_member(MemberSource::Project(w.project.id), bob.id)
        .await
        .unwrap());
    assert_eq!(w.read(&bob_p).await, Err(StatusCode::NOT_FOUND));
}

#[actix_web::test]
async fn a_publish_or_delete_by_another_process_changes_the_revisions_on_the_next_request() {
    let w = world().await;
    assert!(w.revisions("tool").await.is_empty());
    assert!(w.revisions("tool").await.is_empty());

    w.publish_elsewhere("tool", "1.0").await;
    let first = w.revisions("tool").await;
    assert_eq!(first.len(), 1);
    assert_eq!(w.revisions("tool").await, first);

    let second = w.publish_elsewhere("tool", "2.0").await;
    let after = w.revisions("tool").await;
    assert_ne!(after, first);

    assert!(w.other.delete_package(second.id).await.unwrap());
    let deleted = w.revisions("tool").await;
    assert_ne!(deleted, after);
    // Another name is not affected by any of it.
    assert!(w.revisions("other").await.is_empty());
}
