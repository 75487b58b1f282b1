//! Snapshots of GitLab's package JSON (`API::Entities::Package`, `PackageVersion`, the group
//! listing entry and the pipelines of a package) as python-gitlab and curl read it, from fixed
//! rows: a renamed, dropped or added field changes a snapshot.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use packyard_core::model::{
    BuildInfo, Namespace, Package, PackageBuildInfo, PackageId, PackageStatus, PackageTag, Project,
    ProjectId, RegistryAccess, User, UserId, UserState, Visibility,
};
use serde_json::{json, Value};

use crate::views::{group_package, package, package_pipeline, package_version, PackageExtras};

const URL: &str = "http://packyard.test/";

fn project() -> Project {
    Project {
        id: ProjectId(7),
        name: "Tools".into(),
        path: "tools".into(),
        full_path: "acme/tools".into(),
        namespace: Namespace::Group(packyard_core::model::GroupId(2)),
        visibility: Visibility::Private,
        description: String::new(),
        registry_access: RegistryAccess::Enabled,
        creator_id: Some(UserId(1)),
        created_at: 1_574_825_858_711,
    }
}

fn pkg(status: PackageStatus) -> Package {
    Package {
        id: PackageId(42),
        project_id: ProjectId(7),
        format: "generic".into(),
        name: "demo".into(),
        normalized_name: "demo".into(),
        version: "1.2.3".into(),
        status,
        metadata: json!({ "not": "shown" }),
        created_at: 1_700_000_000_000,
        updated_at: 1_700_000_500_000,
        last_downloaded_at: Some(1_700_000_900_000),
    }
}

fn tags() -> Vec<PackageTag> {
    vec![PackageTag {
        id: 5,
        package_id: PackageId(42),
        name: "stable".into(),
        created_at: 1_700_000_100_000,
        updated_at: 1_700_000_200_000,
    }]
}

/// Newest first: a build by a known user, then one whose user is gone.
fn builds() -> Vec<PackageBuildInfo> {
    vec![
        PackageBuildInfo {
            id: 2,
            package_id: PackageId(42),
            user_id: Some(UserId(3)),
            build: BuildInfo {
                pipeline_id: 900,
                job_id: 9001,
                git_ref: "main".into(),
                sha: "f".repeat(40),
            },
            created_at: 1_700_000_300_000,
        },
        PackageBuildInfo {
            id: 1,
            package_id: PackageId(42),
            user_id: Some(UserId(99)),
            build: BuildInfo {
                pipeline_id: 800,
                job_id: 8001,
                git_ref: "v1.2.3".into(),
                sha: "e".repeat(40),
            },
            created_at: 1_700_000_000_000,
        },
    ]
}

fn users() -> HashMap<UserId, User> {
    HashMap::from([(
        UserId(3),
        User {
            id: UserId(3),
            username: "alice".into(),
            name: "Alice Example".into(),
            email: "alice@example.invalid".into(),
            is_admin: false,
            password_hash: Some("never shown".into()),
            created_at: 1_574_825_858_711,
            state: UserState::Active,
        },
    )])
}

fn all(f: impl Fn(&PackageExtras<'_>) -> Value) -> Value {
    let (project, tags, builds, users) = (project(), tags(), builds(), users());
    let none = PackageExtras {
        project: &project,
        tags: &[],
        builds: &[],
        users: &users,
        can_delete: false,
    };
    let every = PackageExtras {
        project: &project,
        tags: &tags,
        builds: &builds,
        users: &users,
        can_delete: true,
    };
    json!({ "bare": f(&none), "with tags, pipelines, delete link": f(&every) })
}

#[test]
fn gitlab_package() {
    insta::assert_json_snapshot!(all(|x| package(URL, &pkg(PackageStatus::Default), x)));
}

/// A status a single GET does not show has no `web_path`.
#[test]
fn gitlab_package_hidden() {
    insta::assert_json_snapshot!(all(|x| package(URL, &pkg(PackageStatus::Hidden), x)));
}

#[test]
fn gitlab_package_version() {
    insta::assert_json_snapshot!(all(|x| package_version(
        URL,
        &pkg(PackageStatus::Default),
        x
    )));
}

#[test]
fn gitlab_group_package() {
    insta::assert_json_snapshot!(all(|x| group_package(URL, &pkg(PackageStatus::Default), x)));
}

#[test]
fn gitlab_package_pipelines() {
    let (project, users) = (project(), users());
    let list: Vec<Value> = builds()
        .iter()
        .map(|b| package_pipeline(URL, &project, b, &users))
        .collect();
    insta::assert_json_snapshot!(list);
}
