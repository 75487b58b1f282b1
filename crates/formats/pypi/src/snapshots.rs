//! Snapshots of the simple repository pages (PEP 503 HTML, PEP 691 JSON) as pip reads them,
//! built from fixed inputs: a renamed, dropped or added attribute or field changes a snapshot.
//! JSON is snapshotted pretty-printed (the wire form is the same value, compact).
#![allow(clippy::unwrap_used)]

use serde_json::Value;

use crate::views::{index_html, index_json, project_html, project_json, FileLink};

fn names() -> Vec<String> {
    vec!["demo".into(), "my-lib".into(), "tricky<&>\"name'".into()]
}

/// A wheel with everything (requires-python, yanked with a reason, core metadata), an sdist
/// yanked without a reason, and a plain file with nothing optional.
fn files() -> Vec<FileLink> {
    let base = "http://packyard.test/api/v4/projects/7/packages/pypi/files";
    vec![
        FileLink {
            filename: "demo-1.0-py3-none-any.whl".into(),
            url: format!("{base}/aa11/demo-1.0-py3-none-any.whl"),
            sha256: "aa11".into(),
            size: 1234,
            uploaded_at: 1_700_000_000_000,
            requires_python: Some(">=3.8,<4".into()),
            yanked: Some("broken \"build\"".into()),
            core_metadata_sha256: Some("bb22".into()),
        },
        FileLink {
            filename: "demo-1.0.tar.gz".into(),
            url: format!("{base}/cc33/demo-1.0.tar.gz"),
            sha256: "cc33".into(),
            size: 999,
            uploaded_at: 1_700_000_000_123,
            requires_python: None,
            yanked: Some(String::new()),
            core_metadata_sha256: None,
        },
        FileLink {
            filename: "demo-2.0rc1-py3-none-any.whl".into(),
            url: format!("{base}/dd44/demo-2.0rc1-py3-none-any.whl"),
            sha256: "dd44".into(),
            size: 0,
            uploaded_at: 1_710_000_000_000,
            requires_python: None,
            yanked: None,
            core_metadata_sha256: None,
        },
    ]
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

#[test]
fn simple_index_html() {
    insta::assert_snapshot!(index_html(&names()));
}

#[test]
fn simple_index_html_empty() {
    insta::assert_snapshot!(index_html(&[]));
}

#[test]
fn simple_index_json() {
    insta::assert_json_snapshot!(json(&index_json(&names())));
}

#[test]
fn simple_project_html() {
    insta::assert_snapshot!(project_html("demo", &files()));
}

#[test]
fn simple_project_json() {
    let versions = vec!["1.0".to_string(), "2.0rc1".to_string()];
    insta::assert_json_snapshot!(json(&project_json("demo", &versions, &files())));
}
