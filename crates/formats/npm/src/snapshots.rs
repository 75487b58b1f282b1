//! Snapshots of the packument npm reads, full (`application/json`) and abbreviated
//! (`application/vnd.npm.install-v1+json`), built from fixed rows: a renamed, dropped or added
//! field changes a snapshot. Served compact; snapshotted pretty-printed.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use packyard_core::model::{
    Package, PackageFile, PackageFileId, PackageId, PackageStatus, ProjectId,
};
use serde_json::{json, Value};

use crate::views::{packument, VersionView};

const NAME: &str = "@acme/widget";

fn pkg(id: i64, version: &str, at: i64, meta: Value) -> Package {
    Package {
        id: PackageId(id),
        project_id: ProjectId(7),
        format: "npm".into(),
        name: NAME.into(),
        normalized_name: NAME.into(),
        version: version.into(),
        status: PackageStatus::Default,
        metadata: meta,
        created_at: at,
        updated_at: at + 1_000,
        last_downloaded_at: None,
    }
}

fn file(id: i64, version: &str, at: i64, file_count: Option<i64>) -> PackageFile {
    PackageFile {
        id: PackageFileId(id),
        package_id: PackageId(id),
        file_name: format!("widget-{version}.tgz"),
        size: 321,
        sha256: "00".repeat(32),
        sha1: format!("{id:0>40}"),
        md5: "00".repeat(16),
        sha512: format!("{:0>128}", format!("{id:x}ff")),
        metadata: match file_count {
            Some(n) => json!({ "fileCount": n }),
            None => json!({}),
        },
        build: None,
        created_at: at,
    }
}

/// Three versions: an old one with an install script and a deprecation, the `latest` one with
/// every documented metadata field, and a prerelease under `next` with an empty deprecation
/// (un-deprecated) and no file count.
fn rows() -> Vec<(Package, PackageFile)> {
    let t0 = 1_700_000_000_000;
    vec![
        (
            pkg(
                1,
                "1.0.0",
                t0,
                json!({
                    "name": NAME, "version": "1.0.0", "description": "old",
                    "main": "index.js", "license": "MIT",
                    "scripts": { "postinstall": "node setup.js", "test": "jest" },
                    "dependencies": { "left-pad": "^1.3.0" },
                    "deprecated": "use 2.x",
                    "_npmUser": { "name": "alice" },
                }),
            ),
            file(1, "1.0.0", t0, Some(3)),
        ),
        (
            pkg(
                2,
                "2.0.0",
                t0 + 86_400_000,
                json!({
                    "name": NAME, "version": "2.0.0", "description": "A widget",
                    "license": "Apache-2.0", "homepage": "https://example.invalid/widget",
                    "repository": { "type": "git", "url": "git+https://example.invalid/widget.git" },
                    "keywords": ["widget", "ui"], "author": { "name": "Alice" },
                    "readme": "# widget", "bin": { "widget": "cli.js" },
                    "engines": { "node": ">=18" }, "os": ["linux"], "cpu": ["x64"],
                    "dependencies": { "left-pad": "^1.3.0" },
                    "optionalDependencies": { "fsevents": "^2" },
                    "devDependencies": { "jest": "^29" },
                    "peerDependencies": { "react": ">=18" },
                    "peerDependenciesMeta": { "react": { "optional": true } },
                    "bundleDependencies": ["inner"],
                    "funding": "https://example.invalid/fund",
                    "_hasShrinkwrap": false,
                    "scripts": { "build": "tsc" },
                }),
            ),
            file(2, "2.0.0", t0 + 86_400_000, Some(12)),
        ),
        (
            pkg(
                3,
                "3.0.0-rc.1",
                t0 + 2 * 86_400_000,
                json!({
                    "name": NAME, "version": "3.0.0-rc.1", "description": "next",
                    "deprecated": "",
                    "scripts": { "install": "node-gyp rebuild" },
                }),
            ),
            file(3, "3.0.0-rc.1", t0 + 2 * 86_400_000, None),
        ),
    ]
}

fn tags() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("latest".to_string(), "2.0.0".to_string()),
        ("next".to_string(), "3.0.0-rc.1".to_string()),
    ])
}

fn document(abbreviated: bool) -> Value {
    let rows = rows();
    let views: Vec<VersionView<'_>> = rows
        .iter()
        .map(|(p, f)| VersionView {
            package: p,
            file: f,
            tarball: format!(
                "http://packyard.test/api/v4/projects/7/packages/npm/{NAME}/-/{}",
                f.file_name
            ),
        })
        .collect();
    packument(NAME, &views, &tags(), abbreviated, "6-1700172801000")
}

#[test]
fn packument_full() {
    insta::assert_json_snapshot!(document(false));
}

#[test]
fn packument_abbreviated() {
    insta::assert_json_snapshot!(document(true));
}

/// Without a `latest` tag the top-level fields come from the newest version.
#[test]
fn packument_full_without_latest_tag() {
    let rows = rows();
    let views: Vec<VersionView<'_>> = rows[..1]
        .iter()
        .map(|(p, f)| VersionView {
            package: p,
            file: f,
            tarball: format!("http://packyard.test/t/{}", f.file_name),
        })
        .collect();
    insta::assert_json_snapshot!(packument(NAME, &views, &BTreeMap::new(), false, "1-0"));
}
