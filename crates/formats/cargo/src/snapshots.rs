//! Snapshots of what cargo reads: index lines (exactly as an index file serves them, one JSON
//! object per line), `config.json`, and the web API answers, from fixed inputs.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};

use crate::metadata::{index_entry, parse_metadata};
use crate::views::{
    IndexConfig, Ok, Owner, Owners, PublishWarnings, Search, SearchHit, SearchMeta, Warnings,
};

/// The line as the index handler writes it: the entry is stored in the package row's metadata
/// (`json!({"index": entry})`) and written back out compactly.
fn line(publish: Value, cksum: &str, yanked: bool) -> String {
    let meta = parse_metadata(publish.to_string().as_bytes()).unwrap();
    let mut stored = json!({ "index": index_entry(&meta, cksum) });
    stored["index"]["yanked"] = Value::Bool(yanked);
    serde_json::to_string(&stored["index"]).unwrap()
}

/// An index file of three versions: a bare crate, one with every kind of dependency (renamed,
/// target-specific, dev, build, another registry) and classic features, and a yanked one whose
/// features use the newer syntax (`dep:`, `?/`), which moves them to `features2` with `v: 2`.
#[test]
fn index_file_lines() {
    let bare = json!({ "name": "Demo_Crate", "vers": "0.1.0" });
    let full = json!({
        "name": "Demo_Crate", "vers": "1.0.0",
        "deps": [
            { "name": "serde", "version_req": "^1", "features": ["derive"], "optional": false,
              "default_features": true, "target": null, "kind": "normal" },
            { "name": "rand_core", "version_req": "=0.6.4", "features": [], "optional": true,
              "default_features": false, "target": "cfg(unix)", "kind": "normal",
              "explicit_name_in_toml": "rc" },
            { "name": "proptest", "version_req": ">=1, <2", "kind": "dev" },
            { "name": "cc", "version_req": "^1.0", "kind": "build",
              "registry": "https://github.com/rust-lang/crates.io-index" },
        ],
        "features": { "default": ["std"], "std": [], "fast": ["rc"] },
        "links": "demo", "rust_version": "1.70", "description": "ignored by the index",
    });
    let v2 = json!({
        "name": "Demo_Crate", "vers": "2.0.0-beta.1",
        "deps": [{ "name": "serde", "version_req": "^1", "optional": true }],
        "features": { "default": [], "serde": ["dep:serde"], "derive": ["serde?/derive"] },
    });
    let file = [
        line(bare, &"1".repeat(64), false),
        line(full, &"2".repeat(64), false),
        line(v2, &"3".repeat(64), true),
    ]
    .map(|l| l + "\n")
    .concat();
    insta::assert_snapshot!(file);
}

#[test]
fn config_json() {
    let api = "http://packyard.test/api/v4/projects/7/packages/cargo".to_string();
    let doc = |auth_required| {
        serde_json::to_string(&IndexConfig {
            dl: format!("{api}/api/v1/crates"),
            api: api.clone(),
            auth_required,
        })
        .unwrap()
    };
    insta::assert_snapshot!(format!(
        "private project:\n{}\npublic project:\n{}\n",
        doc(true),
        doc(false)
    ));
}

#[test]
fn web_api_answers() {
    let docs = [
        (
            "publish",
            serde_json::to_string(&PublishWarnings {
                warnings: Warnings::default(),
            }),
        ),
        ("yank, unyank", serde_json::to_string(&Ok { ok: true })),
        (
            "owners",
            serde_json::to_string(&Owners {
                users: vec![Owner {
                    id: 3,
                    login: "alice".into(),
                    name: "Alice Example".into(),
                }],
            }),
        ),
        (
            "search",
            serde_json::to_string(&Search {
                crates: vec![SearchHit {
                    name: "Demo_Crate".into(),
                    max_version: "1.0.0".into(),
                    description: "A demo".into(),
                }],
                meta: SearchMeta { total: 1 },
            }),
        ),
    ];
    let text: String = docs
        .into_iter()
        .map(|(what, doc)| format!("{what}:\n{}\n", doc.unwrap()))
        .collect();
    insta::assert_snapshot!(text);
}
