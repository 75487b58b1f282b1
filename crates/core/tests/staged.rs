//! The `Staged` upload guard over the real adapters (SQLite, a folder blob store): dropping
//! it discards the upload and writes nothing, committing consumes it, a refused commit
//! discards it too, and a discard never removes a blob that a committed file shares.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use packyard_core::credentials::Credential;
use packyard_core::model::*;
use packyard_core::ports::{ByteStream, DuplicatePolicy};
use packyard_core::registry::PublishRequest;
use packyard_core::{Principal, Registry, RegistryConfig, RouteClass};
use packyard_db::DbCatalog;
use packyard_storage::FsBlobStore;

const ROOT: &str = "glpat-roottokenroottokenroottoken00";

struct World {
    _dir: tempfile::TempDir,
    registry: Registry,
    root: Principal,
    project: Project,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db =
        DbCatalog::connect(&format!("sqlite://{}/db.sqlite3", dir.path().display()), 4).unwrap();
    db.migrate().await.unwrap();
    let blobs = FsBlobStore::new(dir.path().join("blobs")).unwrap();
    let registry = Registry::new(Arc::new(db), Arc::new(blobs), RegistryConfig::default());
    registry.ensure_initial_root(ROOT).await.unwrap();
    let root = registry
        .authenticate(
            Some(Credential::PrivateToken(ROOT.into())),
            RouteClass::Package,
        )
        .await
        .unwrap();
    let group = registry
        .create_group(NewGroup {
            name: "acme".into(),
            path: "acme".into(),
            parent_id: None,
            visibility: Visibility::Private,
            description: String::new(),
        })
        .await
        .unwrap();
    let project = registry
        .create_project(NewProject {
            name: "tools".into(),
            path: "tools".into(),
            namespace: Namespace::Group(group.id),
            visibility: Visibility::Private,
            description: String::new(),
            registry_access: RegistryAccess::Enabled,
            creator_id: None,
        })
        .await
        .unwrap();
    World {
        _dir: dir,
        registry,
        root,
        project,
    }
}

fn body(bytes: &'static [u8]) -> ByteStream {
    futures_util::stream::iter(vec![Ok(bytes::Bytes::from_static(bytes))]).boxed()
}

fn request(version: &str) -> PublishRequest {
    PublishRequest {
        format: FormatId("generic"),
        name: "tool".into(),
        normalized_name: "tool".into(),
        version: version.into(),
        status: PackageStatus::Default,
        status_override: None,
        package_metadata: serde_json::json!({}),
        file_name: "tool.bin".into(),
        file_metadata: serde_json::json!({}),
        duplicates: DuplicatePolicy::RejectSameFileName {
            message: "exists".into(),
        },
        max_size: None,
    }
}

async fn versions(w: &World) -> Vec<String> {
    let mut v: Vec<String> = w
        .registry
        .packages()
        .packages_by_name(w.project.id, "generic", "tool")
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.version)
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_dropped_upload_is_discarded_and_leaves_nothing_after_gc() {
    let w = world().await;
    let staged = w
        .registry
        .stage(body(b"never committed"), None)
        .await
        .unwrap();
    let sha256 = staged.sha256().to_owned();
    assert_eq!(staged.size(), 15);
    // Readable while staged, for the format's checks.
    assert!(staged.read(None).await.is_ok());
    // An early return (here: the guard going out of scope) discards it.
    assert_eq!(w.registry.discarded_uploads(), 0);
    drop(staged);
    assert_eq!(w.registry.discarded_uploads(), 1);
    assert!(versions(&w).await.is_empty());
    // No row refers to it: gc takes the blob once the grace period has passed.
    assert_eq!(w.registry.gc(Duration::ZERO).await.unwrap().deleted, 1);
    assert!(w.registry.read_blob(&sha256, None).await.is_err());
}

#[tokio::test]
async fn commit_consumes_the_guard_and_a_refused_commit_discards() {
    let w = world().await;
    let staged = w.registry.stage(body(b"release"), None).await.unwrap();
    let (package, file) = staged
        .commit(&w.root, &w.project, request("1.0.0"))
        .await
        .unwrap();
    assert_eq!(package.version, "1.0.0");
    assert_eq!(
        w.registry.discarded_uploads(),
        0,
        "a committed upload is kept"
    );
    assert_eq!(versions(&w).await, ["1.0.0"]);

    // The same file name again: the catalog refuses, the guard discards, and the shared
    // blob of the committed file stays.
    let again = w.registry.stage(body(b"release"), None).await.unwrap();
    let refused = again
        .commit(&w.root, &w.project, request("1.0.0"))
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 409);
    assert_eq!(w.registry.discarded_uploads(), 1);
    // Anonymous callers may not publish: the commit itself checks the right.
    let anonymous = w.registry.stage(body(b"other"), None).await.unwrap();
    let refused = anonymous
        .commit(&Principal::Anonymous, &w.project, request("2.0.0"))
        .await
        .unwrap_err();
    assert!(refused.status().is_client_error(), "{refused}");
    assert_eq!(w.registry.discarded_uploads(), 2);
    assert_eq!(versions(&w).await, ["1.0.0"]);

    w.registry.gc(Duration::ZERO).await.unwrap();
    assert!(w.registry.read_blob(&file.sha256, None).await.is_ok());
}
