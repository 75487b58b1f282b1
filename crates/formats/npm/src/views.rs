//! What npm reads: the packument, full (`application/json`) and abbreviated
//! (`application/vnd.npm.install-v1+json`), as npm's registry documents them
//! (<https://github.com/npm/registry/blob/main/docs/responses/package-metadata.md>).

use std::collections::BTreeMap;

use packyard_core::model::{Millis, Package, PackageFile};
use serde_json::{json, Map, Value};

use crate::metadata::{self, ABBREVIATED_FIELDS};

pub const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

/// One published version with its tarball.
pub struct VersionView<'a> {
    pub package: &'a Package,
    pub file: &'a PackageFile,
    /// Absolute tarball URL.
    pub tarball: String,
}

fn iso(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The `dist` object of a version.
pub fn dist(file: &PackageFile, tarball: &str) -> Value {
    json!({
        "tarball": tarball,
        "shasum": file.sha1,
        "integrity": metadata::integrity(&file.sha512),
        "fileCount": file.metadata.get("fileCount").cloned().unwrap_or(Value::Null),
    })
    .as_object()
    .map(|m| {
        Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    })
    .unwrap_or(Value::Null)
}

/// One version's manifest as served: the stored manifest with `dist`, `_id` and the
/// deprecation message set by the registry.
pub fn manifest(view: &VersionView<'_>, abbreviated: bool) -> Value {
    let stored = view
        .package
        .metadata
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut out = Map::new();
    if abbreviated {
        for key in ABBREVIATED_FIELDS {
            if let Some(v) = stored.get(*key) {
                out.insert((*key).to_owned(), v.clone());
            }
        }
        if metadata::has_install_script(&stored) {
            out.insert("hasInstallScript".into(), Value::Bool(true));
        }
    } else {
        out = stored;
        out.insert(
            "_id".into(),
            Value::String(format!("{}@{}", view.package.name, view.package.version)),
        );
    }
    out.insert("name".into(), Value::String(view.package.name.clone()));
    out.insert(
        "version".into(),
        Value::String(view.package.version.clone()),
    );
    if let Some(Value::String(s)) = out.get("deprecated") {
        if s.is_empty() {
            out.remove("deprecated");
        }
    }
    out.insert("dist".into(), dist(view.file, &view.tarball));
    Value::Object(out)
}

/// The packument of `name` over `versions` (oldest first) and `tags` (tag → version).
pub fn packument(
    name: &str,
    versions: &[VersionView<'_>],
    tags: &BTreeMap<String, String>,
    abbreviated: bool,
    rev: &str,
) -> Value {
    let modified = versions
        .iter()
        .map(|v| v.package.updated_at.max(v.file.created_at))
        .max()
        .unwrap_or_default();
    let mut vs = Map::new();
    for v in versions {
        vs.insert(v.package.version.clone(), manifest(v, abbreviated));
    }
    let tags: Map<String, Value> = tags
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    if abbreviated {
        return json!({
            "name": name,
            "modified": iso(modified),
            "dist-tags": tags,
            "versions": vs,
        });
    }
    let mut time = Map::new();
    let created = versions
        .iter()
        .map(|v| v.package.created_at)
        .min()
        .unwrap_or_default();
    time.insert("created".into(), Value::String(iso(created)));
    time.insert("modified".into(), Value::String(iso(modified)));
    for v in versions {
        time.insert(
            v.package.version.clone(),
            Value::String(iso(v.package.created_at)),
        );
    }
    let latest = tags
        .get("latest")
        .and_then(Value::as_str)
        .and_then(|l| versions.iter().find(|v| v.package.version == l))
        .or(versions.last());
    let mut doc = json!({
        "_id": name,
        "_rev": rev,
        "name": name,
        "dist-tags": tags,
        "versions": vs,
        "time": time,
    });
    if let (Some(latest), Some(obj)) = (latest, doc.as_object_mut()) {
        let m = &latest.package.metadata;
        for key in [
            "description",
            "license",
            "homepage",
            "repository",
            "keywords",
            "author",
            "readme",
        ] {
            if let Some(v) = m.get(key) {
                obj.insert(key.into(), v.clone());
            }
        }
    }
    doc
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use packyard_core::model::{PackageFileId, PackageId, PackageStatus, ProjectId};

    fn pkg(version: &str, meta: Value) -> Package {
        Package {
            id: PackageId(1),
            project_id: ProjectId(1),
            format: "npm".into(),
            name: "@a/b".into(),
            normalized_name: "@a/b".into(),
            version: version.into(),
            status: PackageStatus::Default,
            metadata: meta,
            created_at: 1_700_000_000_000,
            updated_at: 1_700_000_000_000,
            last_downloaded_at: None,
        }
    }

    fn file() -> PackageFile {
        PackageFile {
            id: PackageFileId(1),
            package_id: PackageId(1),
            file_name: "b-1.0.0.tgz".into(),
            size: 10,
            sha256: "00".into(),
            sha1: "abc".into(),
            md5: "00".into(),
            sha512: "00ff".into(),
            metadata: json!({}),
            build: None,
            created_at: 1_700_000_000_000,
        }
    }

    #[test]
    fn full_and_abbreviated_forms() {
        let p = pkg(
            "1.0.0",
            json!({"name":"@a/b","version":"1.0.0","description":"d","dependencies":{"x":"^1"},
                   "scripts":{"postinstall":"node x"},"deprecated":"old","readme":"r"}),
        );
        let f = file();
        let views = [VersionView {
            package: &p,
            file: &f,
            tarball: "http://h/b-1.0.0.tgz".into(),
        }];
        let tags = BTreeMap::from([("latest".to_string(), "1.0.0".to_string())]);
        let full = packument("@a/b", &views, &tags, false, "1-0");
        assert_eq!(full["_rev"], "1-0");
        assert_eq!(full["description"], "d");
        assert_eq!(full["time"]["1.0.0"], "2023-11-14T22:13:20.000Z");
        let v = &full["versions"]["1.0.0"];
        assert_eq!(v["_id"], "@a/b@1.0.0");
        assert_eq!(v["dist"]["shasum"], "abc");
        assert_eq!(v["dist"]["integrity"], "sha512-AP8=");
        assert_eq!(v["deprecated"], "old");
        let abbr = packument("@a/b", &views, &tags, true, "1-0");
        let v = &abbr["versions"]["1.0.0"];
        assert_eq!(v["dependencies"]["x"], "^1");
        assert_eq!(v["hasInstallScript"], true);
        assert!(v.get("scripts").is_none() && v.get("readme").is_none());
        assert_eq!(abbr["dist-tags"]["latest"], "1.0.0");
        assert!(abbr.get("time").is_none());
    }
}
