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
