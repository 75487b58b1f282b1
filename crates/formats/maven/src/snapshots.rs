//! The documents Maven reads, against committed snapshots (`src/snapshots/`): a renamed,
//! dropped or reordered element shows as a diff. Regenerate on purpose with
//! `INSTA_UPDATE=always cargo test -p packyard-format-maven snapshots`.

use packyard_core::SnippetContext;

use crate::views::{self, ArtifactMetadata, SnapshotVersion, VersionMetadata};

#[test]
fn artifact_metadata_with_releases_and_a_snapshot() {
    let versions = ["1.0", "1.1", "2.0-rc1", "2.0", "2.1-SNAPSHOT"].map(String::from);
    insta::assert_snapshot!(views::artifact_metadata(&ArtifactMetadata {
        group_id: "com.example",
        artifact_id: "lib",
        versions: &versions,
        last_updated: "20261202101500",
    }));
}

#[test]
fn artifact_metadata_of_snapshots_only_has_no_release() {
    let versions = ["1.0-SNAPSHOT".to_owned()];
    insta::assert_snapshot!(views::artifact_metadata(&ArtifactMetadata {
        group_id: "com.example",
        artifact_id: "lib",
        versions: &versions,
        last_updated: "20261202101500",
    }));
}

#[test]
fn snapshot_version_metadata() {
    let kinds = [
        SnapshotVersion {
            classifier: None,
            extension: "jar".into(),
            value: "1.0-20261202.101500-3".into(),
            updated: "20261202101500".into(),
        },
        SnapshotVersion {
            classifier: Some("sources".into()),
            extension: "jar".into(),
            value: "1.0-20261202.090000-2".into(),
            updated: "20261202090000".into(),
        },
        SnapshotVersion {
            classifier: None,
            extension: "pom".into(),
            value: "1.0-20261202.101500-3".into(),
            updated: "20261202101500".into(),
        },
    ];
    insta::assert_snapshot!(views::version_metadata(&VersionMetadata {
        group_id: "com.example",
        artifact_id: "lib",
        version: "1.0-SNAPSHOT",
        timestamp: "20261202.101500",
        build_number: 3,
        last_updated: "20261202101500",
        snapshot_versions: &kinds,
    }));
}

#[test]
fn snippets() {
    let snippets = views::snippets(&SnippetContext {
        external_url: "https://packyard.example.com/",
        project_id: 42,
        project_path: "acme/java",
        package_name: "com/example/lib",
        package_version: "1.0",
        file_names: &[],
    });
    let text: Vec<String> = snippets
        .iter()
        .map(|s| format!("## {} ({})\n{}\n", s.title, s.language, s.code))
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}
