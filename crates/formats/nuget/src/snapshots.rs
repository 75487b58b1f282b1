//! The v3 documents NuGet reads, against committed snapshots (`src/snapshots/`): a
//! renamed, dropped or reordered field shows as a diff. Regenerate on purpose with
//! `INSTA_UPDATE=always cargo test -p packyard-format-nuget snapshots`.
#![allow(clippy::unwrap_used)]

use packyard_core::model::{
    Package, PackageFile, PackageFileId, PackageId, PackageStatus, ProjectId,
};
use serde_json::json;

use crate::index::{PackageIndex, StoredMetadata};
use crate::nuspec::{Dependency, DependencyGroup, License, Nuspec};
use crate::views::{self, Level};

const BASE: &str = "http://packyard.test/api/v4/projects/7/packages/nuget";

fn nuspec(version: &str) -> Nuspec {
    Nuspec {
        id: "Acme.Core".into(),
        version: version.into(),
        authors: "Acme, Inc.".into(),
        description: "The core library.".into(),
        title: Some("Acme Core".into()),
        tags: vec!["acme".into(), "core".into()],
        project_url: Some("https://acme.test/core".into()),
        license: Some(License {
            kind: "expression".into(),
            value: "MIT".into(),
            version: None,
        }),
        dependency_groups: vec![
            DependencyGroup {
                target_framework: Some("net8.0".into()),
                dependencies: vec![Dependency {
                    id: "Acme.Base".into(),
                    range: Some("[1.0,2.0)".into()),
                    ..Dependency::default()
                }],
            },
            DependencyGroup {
                target_framework: Some("netstandard2.0".into()),
                dependencies: Vec::new(),
            },
        ],
        ..Nuspec::default()
    }
}

/// `(version as pushed, status)` of each package, in push order.
fn index(versions: &[(&str, PackageStatus)]) -> PackageIndex {
    let mut packages = Vec::new();
    let mut files = Vec::new();
    for (i, (pushed, status)) in versions.iter().enumerate() {
        let parsed = crate::version::parse(pushed).unwrap();
        let meta = StoredMetadata {
            version: parsed.normalized(),
            full_version: parsed.full(),
            nuspec: nuspec(pushed),
            nuspec_xml: "<package/>".into(),
        };
        let n = i as i64 + 1;
        let at = 1_796_212_800_000 + n * 3_600_000;
        packages.push(Package {
            id: PackageId(n),
            project_id: ProjectId(7),
            format: "nuget".into(),
            name: "Acme.Core".into(),
            normalized_name: "acme.core".into(),
            version: parsed.normalized().to_ascii_lowercase(),
            status: *status,
            metadata: serde_json::to_value(&meta).unwrap(),
            created_at: at,
            updated_at: at,
            last_downloaded_at: None,
        });
        files.push(PackageFile {
            id: PackageFileId(n),
            package_id: PackageId(n),
            file_name: format!(
                "acme.core.{}.nupkg",
                parsed.normalized().to_ascii_lowercase()
            ),
            size: 1000 + n,
            sha256: "ab".repeat(32),
            sha1: "cd".repeat(20),
            md5: "ef".repeat(16),
            sha512: format!("{n:02x}").repeat(64),
            metadata: json!({}),
            build: None,
            created_at: at,
        });
    }
    PackageIndex::build("acme.core", packages, files)
}

fn three() -> PackageIndex {
    index(&[
        ("1.0", PackageStatus::Default),
        ("2.0.0-beta.1+sha.abc", PackageStatus::Default),
        ("1.5.0", PackageStatus::Hidden),
    ])
}

#[test]
fn service_index_of_a_project_and_of_a_group() {
    insta::assert_json_snapshot!(
        "service_index_project",
        views::service_index(BASE, Level::Project)
    );
    insta::assert_json_snapshot!(
        "service_index_group",
        views::service_index(
            "http://packyard.test/api/v4/groups/acme/-/packages/nuget",
            Level::Group
        )
    );
}

#[test]
fn flat_container_versions_are_lower_case_and_ascending() {
    insta::assert_json_snapshot!(views::versions(&three()));
}

#[test]
fn registration_index_inlined_with_an_unlisted_version() {
    insta::assert_json_snapshot!(views::registration_index(BASE, &three(), 64));
}

#[test]
fn registration_index_paged_and_one_of_its_pages() {
    let idx = three();
    insta::assert_json_snapshot!(
        "registration_index_paged",
        views::registration_index(BASE, &idx, 2)
    );
    insta::assert_json_snapshot!(
        "registration_page",
        views::registration_page(BASE, &idx, 2, "2.0.0-beta.1", "2.0.0-beta.1").unwrap()
    );
    assert!(views::registration_page(BASE, &idx, 2, "1.0.0", "2.0.0-beta.1").is_none());
}

#[test]
fn registration_leaf() {
    let idx = three();
    insta::assert_json_snapshot!(views::registration_leaf(
        BASE,
        &idx,
        idx.find("1.0").unwrap()
    ));
}

#[test]
fn search_result_of_the_visible_versions() {
    let idx = three();
    let visible: Vec<_> = idx.visible(true, true).collect();
    let hit = views::search_result(BASE, &idx, &visible).unwrap();
    insta::assert_json_snapshot!(views::search(1, vec![hit]));
    // Stable only, SemVer 1 only: the pre-release is not shown, the unlisted never.
    let stable: Vec<_> = idx.visible(false, false).collect();
    assert_eq!(stable.len(), 1);
    assert_eq!(stable[0].meta.version, "1.0.0");
}
