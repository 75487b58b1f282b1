//! The format seam, checked on the sources: a format crate reaches data only through the
//! `Registry`'s checked methods and its read-only `Registry::packages()`, never through
//! `Registry::catalog()`, where a write would skip the policy and the package protection
//! rules (issue 12: npm dist-tags and deprecations ignored push protection that way). And
//! outside core and db, nothing writes packages through the catalog port.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without whitespace, so that chains split over lines match as one.
fn squeezed(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

#[test]
fn format_crates_never_reach_the_catalog_port() {
    let mut files = Vec::new();
    for format in std::fs::read_dir(crates_dir().join("formats")).unwrap() {
        rust_files(&format.unwrap().path().join("src"), &mut files);
    }
    assert!(files.len() > 10, "found the format sources: {files:?}");
    let offenders: Vec<_> = files
        .iter()
        .filter(|f| squeezed(f).contains(".catalog()"))
        .collect();
    assert!(
        offenders.is_empty(),
        "format code must use Registry::packages() for reads and the Registry's checked \
         methods for writes, not Registry::catalog(): {offenders:?}"
    );
}

#[test]
fn package_writes_outside_core_go_through_the_registry() {
    const WRITES: &[&str] = &[
        "set_package_tag(",
        "delete_package_tag(",
        "update_package(",
        "update_package_file_metadata(",
        "delete_package(",
        "delete_package_file(",
        "publish_file(",
    ];
    let mut files = Vec::new();
    for krate in ["api/src", "web/src", "formats", "../bin/packyard/src"] {
        rust_files(&crates_dir().join(krate), &mut files);
    }
    assert!(files.len() > 30, "found the sources: {files:?}");
    let mut offenders = Vec::new();
    for f in &files {
        let text = squeezed(f);
        for w in WRITES {
            if text.contains(&format!("catalog().{w}")) || text.contains(&format!("catalog.{w}")) {
                offenders.push(format!("{}: {w}", f.display()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "package writes must go through the Registry (policy + protection rules): {offenders:?}"
    );
}

/// The `[dependencies]` of a manifest, by name (dev-dependencies are free: tests build
/// archives and fixtures).
fn dependencies(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[dependencies]";
            continue;
        }
        if !inside || line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((name, _)) = line.split_once('=') {
            // `name = ...`, `name.workspace = true`, `"name" = ...`
            let name = name.trim().trim_matches('"');
            names.push(name.split('.').next().unwrap_or(name).to_owned());
        }
    }
    names
}

#[test]
fn the_manifest_reader_sees_every_spelling_of_a_dependency() {
    let deps = dependencies(
        "[package]\nname = \"x\"\n[dependencies]\npackyard-core.workspace = true\n\
         # a comment\npackyard-db = { path = \"../db\" }\n\"zip\" = \"2\"\n\
         [dev-dependencies]\ntar = \"0.4\"\n",
    );
    assert_eq!(deps, ["packyard-core", "packyard-db", "zip"]);
}

#[test]
fn format_crates_depend_on_no_packyard_crate_but_core_nor_on_storage() {
    // Storage and database clients are the adapters' (crates/db, crates/storage); archive
    // and body readers are core's bounded ones (`packyard_core::archive`, `body`).
    const FORBIDDEN: &[&str] = &[
        "diesel",
        "diesel-async",
        "rusqlite",
        "libsqlite3-sys",
        "tokio-postgres",
        "rust-s3",
        "aws-sdk-s3",
        "actix-files",
        "tar",
        "zip",
        "flate2",
        "tokio-util",
    ];
    let mut manifests = Vec::new();
    for format in std::fs::read_dir(crates_dir().join("formats")).unwrap() {
        let manifest = format.unwrap().path().join("Cargo.toml");
        if manifest.exists() {
            manifests.push(manifest);
        }
    }
    assert!(manifests.len() >= 4, "found the formats: {manifests:?}");
    let mut offenders = Vec::new();
    for m in &manifests {
        let deps = dependencies(&std::fs::read_to_string(m).unwrap());
        assert!(
            deps.iter().any(|d| d == "packyard-core"),
            "{} does not depend on packyard-core: the parser found {deps:?}",
            m.display()
        );
        for d in deps {
            if (d.starts_with("packyard-") && d != "packyard-core")
                || FORBIDDEN.contains(&d.as_str())
            {
                offenders.push(format!("{}: {d}", m.display()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "a format crate depends on packyard-core only for data, storage and archives: \
         {offenders:?}"
    );
}

#[test]
fn format_crates_use_the_narrow_door_and_the_shared_mechanics() {
    // (what a format source may not contain, what it uses instead)
    const FORBIDDEN: &[(&str, &str)] = &[
        (
            ".catalog()",
            "Registry::packages() and the Registry's checked writes",
        ),
        (".blobs()", "Registry::stage and Registry::download"),
        (".read_blob(", "Staged::read"),
        (".discard(", "dropping the Staged guard"),
        ("fnprintable(", "packyard_core::error::printable"),
        ("SyncIoBridge", "packyard_core::body::read_blocking"),
        ("blocking_recv(", "packyard_core::body::read_blocking"),
    ];
    let mut files = Vec::new();
    for format in std::fs::read_dir(crates_dir().join("formats")).unwrap() {
        rust_files(&format.unwrap().path().join("src"), &mut files);
    }
    let mut offenders = Vec::new();
    for f in &files {
        let text = squeezed(f);
        for (bad, instead) in FORBIDDEN {
            if text.contains(&bad.replace(' ', "")) {
                offenders.push(format!("{}: {bad} (use {instead})", f.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}
