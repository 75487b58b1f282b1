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
        .map(|(f, r)| (f.id().0, r))
        .collect();
    assert_eq!(
        with.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        ["generic"],
        "the formats compiled in that have GitLab's setting"
    );
    for (id, rule) in with {
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
                format!("{id}_duplicates_allowed"): false,
                format!("{id}_duplicate_exception_regex"): ".*-SNAPSHOT|snap",
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
        set_document(&env, json!({ format!("{id}_duplicates_allowed"): true })).await;
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
    assert_eq!(shown.formats.keys().collect::<Vec<_>>(), ["generic"]);
}
