//! Duplicate rules come from the format (`PackageFormat::duplicate_rule`) and are decided in
//! `Registry::commit`: a format with GitLab's duplicate setting cannot forget it, and a format
//! without it keeps its own rule whatever the group's settings document holds. Through the
//! Registry of the real binary (every format compiled in), over SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::http::StatusCode;
use bytes::Bytes;
use futures_util::StreamExt;
use packyard::{config, server};
use packyard_core::model::*;
use packyard_core::ports::{ByteStream, DuplicatePolicy};
use packyard_core::registry::PublishRequest;
use packyard_core::{Principal, Registry};
use serde_json::json;

const ROOT: &str = "glpat-duplicate-rules-root-token";

struct Env {
    _dir: tempfile::TempDir,
    registry: Registry,
    group: Group,
    project: Project,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_string_lossy().into_owned();
    let config = config::load(
        None,
        |k| (k == "PACKYARD_DATA_DIR").then(|| data.clone()),
        &[],
    )
    .unwrap();
    let registry = server::open_registry(&config).await.unwrap();
    registry.ensure_initial_root(ROOT).await.unwrap();
    let group = registry
        .create_group(NewGroup {
            name: "acme".into(),
            path: "acme".into(),
            parent_id: None,
            visibility: Visibility::Public,
            description: String::new(),
        })
        .await
        .unwrap();
    let project = registry
        .create_project(NewProject {
            name: "tools".into(),
            path: "tools".into(),
            namespace: Namespace::Group(group.id),
            visibility: Visibility::Public,
            description: String::new(),
            registry_access: RegistryAccess::Enabled,
            creator_id: None,
        })
        .await
        .unwrap();
    Env {
        _dir: dir,
        registry,
        group,
        project,
    }
}

async fn root(registry: &Registry) -> Principal {
    registry
        .catalog()
        .user_by_username("root")
        .await
        .unwrap()
        .map(|user| Principal::User { user, scopes: None })
        .unwrap()
}

fn body(bytes: &'static [u8]) -> ByteStream {
    futures_util::stream::once(async move { Ok(Bytes::from_static(bytes)) }).boxed()
}

fn request(
    format: &'static str,
    name: &str,
    version: &str,
    duplicates: DuplicatePolicy,
) -> PublishRequest {
    PublishRequest {
        format: FormatId(format),
        name: name.into(),
        normalized_name: name.into(),
        version: version.into(),
        status: PackageStatus::Default,
        status_override: None,
        package_metadata: json!({}),
        file_name: "file.bin".into(),
        file_metadata: json!({}),
        duplicates,
        max_size: None,
    }
}

async fn set_document(env: &Env, doc: serde_json::Value) {
    env.registry
        .catalog()
        .set_group_package_settings_document(env.group.id, &doc)
        .await
        .unwrap();
}

/// Every installed format with the setting: with duplicates disallowed, a second file of
/// the same name is refused even when the format's handler asks for `Allow` (it "forgot"),
/// and the exception regex (anchored, name or version) lets one through.
#[actix_web::test]
async fn formats_with_the_setting_have_it_enforced_by_the_registry() {
    let env = env().await;
    let root = root(&env.registry).await;
    let with: Vec<_> = env
        .registry
        .formats()
        .with_duplicate_setting()
        .map(|(f, r)| (f.id().0, f.gitlab_package_type(), r))
        .collect();
    let mut expected = vec!["generic"];
    if cfg!(feature = "maven") {
        expected.push("maven");
    }
    if cfg!(feature = "nuget") {
        expected.push("nuget");
    }
    assert_eq!(
        with.iter().map(|(id, _, _)| *id).collect::<Vec<_>>(),
        expected,
        "the formats compiled in that have GitLab's setting"
    );
    // The settings are named after the GitLab package type (`terraform_module_...`).
    for (id, setting, rule) in with {
        let publish = |name: &str, version: &str| {
            env.registry.publish(
                &root,
                &env.project,
                request(id, name, version, DuplicatePolicy::Allow),
                body(b"x"),
            )
        };
        if rule.allowed_by_default {
            publish("dflt", "1.0").await.unwrap();
            publish("dflt", "1.0").await.expect("allowed by default");
        }
        set_document(
            &env,
            json!({
                format!("{setting}_duplicates_allowed"): false,
                format!("{setting}_duplicate_exception_regex"): ".*-SNAPSHOT|snap",
            }),
        )
        .await;
        publish("lib", "1.0").await.unwrap();
        let e = publish("lib", "1.0").await.expect_err("a duplicate");
        assert_eq!(e.status(), StatusCode::CONFLICT, "{id}");
        assert!(
            e.to_string().contains("Duplicate package is not allowed"),
            "{id}: {e}"
        );
        // The version matches the exception; so does the whole name `snap`.
        publish("lib", "2.0-SNAPSHOT").await.unwrap();
        publish("lib", "2.0-SNAPSHOT")
            .await
            .expect("version matches the exception");
        publish("snap", "1.0").await.unwrap();
        publish("snap", "1.0")
            .await
            .expect("name matches the exception");
        // Anchored: `snap` does not match `snapshot`.
        publish("snapshot", "1.0").await.unwrap();
        publish("snapshot", "1.0")
            .await
            .expect_err("a partial match is no match");
        // Allowed again: the duplicate goes in.
        set_document(
            &env,
            json!({ format!("{setting}_duplicates_allowed"): true }),
        )
        .await;
        publish("lib", "1.0").await.expect("allowed");
    }
}

/// PyPI, npm and Cargo have no setting: a stored `<id>_duplicates_allowed: true` (as older
/// versions wrote) changes nothing, the format's own refusal applies.
#[actix_web::test]
async fn formats_without_the_setting_keep_refusing_duplicates() {
    let env = env().await;
    let root = root(&env.registry).await;
    set_document(
        &env,
        json!({
            "pypi_duplicates_allowed": true, "npm_duplicates_allowed": true,
            "cargo_duplicates_allowed": true, "pypi_duplicate_exception_regex": ".*",
        }),
    )
    .await;
    for id in ["pypi", "npm", "cargo"] {
        let f = env.registry.formats().by_id(id).expect("compiled in");
        assert!(f.duplicate_rule().is_none(), "{id}");
        let refuse = DuplicatePolicy::RejectExistingVersion {
            message: format!("{id} refuses"),
        };
        let publish = || {
            env.registry.publish(
                &root,
                &env.project,
                request(id, "lib", "1.0", refuse.clone()),
                body(b"y"),
            )
        };
        publish().await.unwrap();
        let e = publish().await.expect_err("a duplicate");
        assert_eq!(e.status(), StatusCode::CONFLICT, "{id}");
        assert!(
            e.to_string().contains(&format!("{id} refuses")),
            "{id}: {e}"
        );
    }
    // Nor do the API or the settings show them.
    let shown = env
        .registry
        .namespace_package_settings(&env.group)
        .await
        .unwrap();
    let with_setting: Vec<&str> = env
        .registry
        .formats()
        .with_duplicate_setting()
        .map(|(f, _)| f.gitlab_package_type())
        .collect();
    assert_eq!(
        shown.formats.keys().map(String::as_str).collect::<Vec<_>>(),
        with_setting
    );
    for id in ["pypi", "npm", "cargo"] {
        assert!(!shown.formats.contains_key(id), "{id}");
    }
}

/// Maven: a SNAPSHOT version is never a duplicate (a non-unique `lib-1.0-SNAPSHOT.jar` goes
/// in twice), and the cleanup policy keeps the newest N timestamped builds of each SNAPSHOT
/// version, all files of a build together, besides its same-name rule.
#[cfg(feature = "maven")]
#[actix_web::test]
async fn maven_snapshot_builds_are_cut_to_the_newest_n_by_the_cleanup_policy() {
    let env = env().await;
    let root = root(&env.registry).await;
    let publish = |file: String| {
        let mut r = request(
            "maven",
            "com/example/lib",
            "1.0-SNAPSHOT",
            DuplicatePolicy::RejectSameFileName {
                message: "refused".into(),
            },
        );
        r.file_name = file;
        env.registry.publish(&root, &env.project, r, body(b"x"))
    };
    for n in 1..=3 {
        for ext in ["pom", "jar"] {
            publish(format!("lib-1.0-20261202.10000{n}-{n}.{ext}"))
                .await
                .unwrap();
        }
    }
    publish("lib-1.0-SNAPSHOT.jar".into()).await.unwrap();
    publish("lib-1.0-SNAPSHOT.jar".into())
        .await
        .expect("a SNAPSHOT is never a duplicate");
    env.registry
        .set_cleanup_policy(&env.project, Some(1))
        .await
        .unwrap();
    let report = env
        .registry
        .run_all_cleanup(std::time::Duration::from_secs(3600))
        .await
        .unwrap();
    let packages = env
        .registry
        .packages()
        .packages_by_name(env.project.id, "maven", "com/example/lib")
        .await
        .unwrap();
    let ids: Vec<_> = packages.iter().map(|p| p.id).collect();
    let mut left: Vec<String> = env
        .registry
        .packages()
        .package_files_of(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.file_name)
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "lib-1.0-20261202.100003-3.jar",
            "lib-1.0-20261202.100003-3.pom",
            "lib-1.0-SNAPSHOT.jar",
        ]
    );
    assert_eq!(report.deleted_files, 5, "{report:?}");
}
