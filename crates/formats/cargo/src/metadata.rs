//! Pure parsing of what `cargo publish` sends (no I/O; fuzzable).
//!
//! Specs: the Cargo registry web API (<https://doc.rust-lang.org/cargo/reference/registry-web-api.html#publish>),
//! the index format (<https://doc.rust-lang.org/cargo/reference/registry-index.html>), and
//! crates.io's naming rules. The publish body is `u32 LE` JSON length, the JSON metadata,
//! `u32 LE` `.crate` length, the `.crate` (a gzipped tar whose entries all live under
//! `name-version/`, with the normalized `Cargo.toml` at `name-version/Cargo.toml`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Component;

use packyard_core::archive::{self, ArchiveError, ArchiveLimits, TarMember, Walk};
use packyard_core::error::printable;
use serde::{Deserialize, Serialize};

/// Longest crate name crates.io accepts.
pub const MAX_NAME_LEN: usize = 64;
/// Longest version string we accept (crates.io has no practical need for more).
pub const MAX_VERSION_LEN: usize = 128;
/// The JSON part of a publish body (it carries the README, so it can be large).
pub const MAX_METADATA_LEN: u32 = 4 * 1024 * 1024;
/// Unpacked size of a `.crate` (crates.io's own limit is 512 MiB).
pub const MAX_UNPACKED_LEN: u64 = 512 * 1024 * 1024;
/// Size of `Cargo.toml` inside a `.crate`.
pub const MAX_MANIFEST_LEN: u64 = 1024 * 1024;
/// Entries in a `.crate`.
pub const MAX_ENTRIES: usize = 100_000;
/// Dependencies and features of one version.
const MAX_DEPS: usize = 2_000;
const MAX_FEATURES: usize = 2_000;
const MAX_SHORT_TEXT: usize = 1024;

/// Why a publish was refused; the text is shown to the user by cargo.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    #[error("{0}")]
    Invalid(String),
    /// The body's declared lengths and its actual size disagree.
    #[error("the publish body is malformed: {0}")]
    Framing(String),
    #[error("the .crate file is {size} bytes, over this registry's limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
}

fn invalid(s: impl Into<String>) -> PublishError {
    PublishError::Invalid(s.into())
}

// ------------------------------------------------------------------ names and versions

/// Names no crate may take: Windows device names and the sysroot crates.
const RESERVED: &[&str] = &[
    "alloc",
    "aux",
    "build",
    "cargo",
    "con",
    "core",
    "crates",
    "nul",
    "prn",
    "proc-macro",
    "proc_macro",
    "rust",
    "rustc",
    "std",
    "test",
    "com1",
    "com2",
    "com3",
    "com4",
    "com5",
    "com6",
    "com7",
    "com8",
    "com9",
    "lpt1",
    "lpt2",
    "lpt3",
    "lpt4",
    "lpt5",
    "lpt6",
    "lpt7",
    "lpt8",
    "lpt9",
];

/// The syntax of a crate name, as crates.io checks it: ASCII letters, digits, `-` and `_`,
/// starting with a letter, at most 64 characters.
pub fn check_name_syntax(name: &str) -> Result<(), PublishError> {
    if name.is_empty() {
        return Err(invalid("the crate name is empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(invalid(format!(
            "the crate name `{}` is longer than {MAX_NAME_LEN} characters",
            printable(name)
        )));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(invalid(format!(
            "the crate name `{}` must start with an ASCII letter",
            printable(name)
        )));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(invalid(format!(
            "the crate name `{}` may only contain ASCII letters, digits, `-` and `_`",
            printable(name)
        )));
    }
    Ok(())
}

/// A name a new crate may be published under: valid syntax and not reserved.
pub fn validate_name(name: &str) -> Result<(), PublishError> {
    check_name_syntax(name)?;
    if RESERVED.contains(&normalize_name(name).as_str())
        || RESERVED.contains(&name.to_ascii_lowercase().as_str())
    {
        return Err(invalid(format!("the crate name `{name}` is reserved")));
    }
    Ok(())
}

/// How crates.io compares names: case-insensitively, with `-` and `_` the same.
pub fn normalize_name(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// A semver version, as cargo writes it.
pub fn parse_version(version: &str) -> Result<semver::Version, PublishError> {
    if version.len() > MAX_VERSION_LEN {
        return Err(invalid(format!(
            "the version is longer than {MAX_VERSION_LEN} characters"
        )));
    }
    semver::Version::parse(version).map_err(|e| {
        invalid(format!(
            "the version `{}` is not valid semver: {e}",
            printable(version)
        ))
    })
}

/// Semver order; versions that do not parse sort before those that do, then by text.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Greater,
        (Err(_), Ok(_)) => std::cmp::Ordering::Less,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// The index file path of a crate (RFC 2789 / the registry index docs), lower-cased:
/// `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd...`.
pub fn index_path(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.len() {
        0 => String::new(),
        1 => format!("1/{lower}"),
        2 => format!("2/{lower}"),
        3 => format!("3/{}/{lower}", &lower[..1]),
        _ => format!("{}/{}/{lower}", &lower[..2], &lower[2..4]),
    }
}

// ------------------------------------------------------------------ publish metadata

/// The JSON metadata of a publish, as cargo sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct PublishMetadata {
    pub name: String,
    pub vers: String,
    #[serde(default)]
    pub deps: Vec<PublishDep>,
    #[serde(default)]
    pub features: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub links: Option<String>,
    #[serde(default)]
    pub rust_version: Option<String>,
    #[serde(default)]
    pub license: Option<String>,
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    pub homepage: Option<String>,
    #[serde(default)]
    pub documentation: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PublishDep {
    /// The crate's real name.
    pub name: String,
    pub version_req: String,
    #[serde(default)]
    pub features: Vec<String>,
    #[serde(default)]
    pub optional: bool,
    #[serde(default = "yes")]
    pub default_features: bool,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    /// The index URL of the dependency's registry; `None` for this registry.
    #[serde(default)]
    pub registry: Option<String>,
    /// The name the dependent uses (`foo = { package = "bar" }`), when renamed.
    #[serde(default)]
    pub explicit_name_in_toml: Option<String>,
}

fn yes() -> bool {
    true
}

/// One line of an index file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub name: String,
    pub vers: String,
    pub deps: Vec<IndexDep>,
    pub cksum: String,
    pub features: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features2: Option<BTreeMap<String, Vec<String>>>,
    pub yanked: bool,
    #[serde(default)]
    pub links: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDep {
    /// The name the dependent uses (the rename, when renamed).
    pub name: String,
    pub req: String,
    pub features: Vec<String>,
    pub optional: bool,
    pub default_features: bool,
    pub target: Option<String>,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// The real crate name, when renamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

fn short(what: &str, s: &str) -> Result<(), PublishError> {
    if s.len() > MAX_SHORT_TEXT || s.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{what} `{}` is too long or holds control characters",
            printable(s)
        )));
    }
    Ok(())
}

/// Parses and checks the JSON metadata of a publish.
pub fn parse_metadata(json: &[u8]) -> Result<PublishMetadata, PublishError> {
    let meta: PublishMetadata = serde_json::from_slice(json)
        .map_err(|e| invalid(format!("the publish metadata is not valid JSON: {e}")))?;
    validate_name(&meta.name)?;
    parse_version(&meta.vers)?;
    if meta.deps.len() > MAX_DEPS {
        return Err(invalid(format!("more than {MAX_DEPS} dependencies")));
    }
    for dep in &meta.deps {
        check_name_syntax(&dep.name)
            .map_err(|e| invalid(format!("dependency `{}`: {e}", printable(&dep.name))))?;
        if let Some(alias) = &dep.explicit_name_in_toml {
            check_name_syntax(alias)
                .map_err(|e| invalid(format!("dependency `{}`: {e}", printable(alias))))?;
        }
        semver::VersionReq::parse(&dep.version_req).map_err(|e| {
            invalid(format!(
                "dependency `{}` has an invalid version requirement `{}`: {e}",
                dep.name,
                printable(&dep.version_req)
            ))
        })?;
        match dep.kind.as_deref() {
            None | Some("normal" | "dev" | "build") => {}
            Some(other) => {
                return Err(invalid(format!(
                    "dependency `{}` has an unknown kind `{}`",
                    dep.name,
                    printable(other)
                )))
            }
        }
        if dep.features.len() > MAX_FEATURES {
            return Err(invalid(format!(
                "dependency `{}`: too many features",
                dep.name
            )));
        }
        for f in &dep.features {
            short("a dependency feature", f)?;
        }
        if let Some(t) = &dep.target {
            short("a target", t)?;
        }
        if let Some(r) = &dep.registry {
            short("a dependency registry", r)?;
        }
    }
    if meta.features.len() > MAX_FEATURES {
        return Err(invalid(format!("more than {MAX_FEATURES} features")));
    }
    for (name, values) in &meta.features {
        short("a feature name", name)?;
        if values.len() > MAX_FEATURES {
            return Err(invalid(format!(
                "feature `{name}` enables too many features"
            )));
        }
        for v in values {
            short("a feature value", v)?;
        }
    }
    if let Some(l) = &meta.links {
        short("links", l)?;
    }
    if let Some(r) = &meta.rust_version {
        short("rust-version", r)?;
    }
    Ok(meta)
}

/// The index line of a version: the publish metadata plus the `.crate`'s sha256.
///
/// Features that use the newer syntax (`dep:x`, `x?/f`) go to `features2` with `v: 2`, as
/// crates.io does, so that cargo versions without that syntax skip the line instead of
/// failing on it.
pub fn index_entry(meta: &PublishMetadata, cksum: &str) -> IndexEntry {
    let deps = meta
        .deps
        .iter()
        .map(|d| {
            let (name, package) = match &d.explicit_name_in_toml {
                Some(alias) => (alias.clone(), Some(d.name.clone())),
                None => (d.name.clone(), None),
            };
            IndexDep {
                name,
                req: d.version_req.clone(),
                features: d.features.clone(),
                optional: d.optional,
                default_features: d.default_features,
                target: d.target.clone(),
                kind: d.kind.clone().unwrap_or_else(|| "normal".into()),
                registry: d.registry.clone(),
                package,
            }
        })
        .collect();
    let (features2, features): (BTreeMap<_, _>, BTreeMap<_, _>) = meta
        .features
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .partition(|(_, values)| {
            values
                .iter()
                .any(|v| v.starts_with("dep:") || v.contains("?/"))
        });
    let v2 = !features2.is_empty();
    IndexEntry {
        name: meta.name.clone(),
        vers: meta.vers.clone(),
        deps,
        cksum: cksum.to_owned(),
        features,
        features2: v2.then_some(features2),
        yanked: false,
        links: meta.links.clone(),
        rust_version: meta.rust_version.clone(),
        v: v2.then_some(2),
    }
}

// ------------------------------------------------------------------ body framing

/// Reads the `u32 LE` length that precedes the JSON and checks it against the limit.
pub fn metadata_len(prefix: [u8; 4]) -> Result<u32, PublishError> {
    let len = u32::from_le_bytes(prefix);
    if len == 0 {
        return Err(PublishError::Framing("the metadata length is 0".into()));
    }
    if len > MAX_METADATA_LEN {
        return Err(PublishError::Framing(format!(
            "the metadata is {len} bytes, over the limit of {MAX_METADATA_LEN}"
        )));
    }
    Ok(len)
}

/// Reads the `u32 LE` length that precedes the `.crate` and checks it against `limit`.
pub fn crate_len(prefix: [u8; 4], limit: u64) -> Result<u64, PublishError> {
    let len = u64::from(u32::from_le_bytes(prefix));
    if len == 0 {
        return Err(PublishError::Framing("the .crate length is 0".into()));
    }
    if len > limit {
        return Err(PublishError::TooLarge { size: len, limit });
    }
    Ok(len)
}

/// Splits a whole publish body held in memory (tests and the fuzz target; the server
/// streams the `.crate` part with the same checks).
pub fn split_publish_body(
    body: &[u8],
    crate_limit: u64,
) -> Result<(PublishMetadata, &[u8]), PublishError> {
    let truncated = || PublishError::Framing("the body ended before its declared lengths".into());
    let take4 = |at: usize| -> Result<[u8; 4], PublishError> {
        body.get(at..at + 4)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(truncated)
    };
    let json_len = metadata_len(take4(0)?)? as usize;
    let json = body.get(4..4 + json_len).ok_or_else(truncated)?;
    let meta = parse_metadata(json)?;
    let at = 4 + json_len;
    let len = crate_len(take4(at)?, crate_limit)? as usize;
    let start = at + 4;
    let krate = body.get(start..start + len).ok_or_else(truncated)?;
    if body.len() > start + len {
        return Err(PublishError::Framing(
            "the body goes on after the .crate file: its declared length is wrong".into(),
        ));
    }
    Ok((meta, krate))
}

// ------------------------------------------------------------------ the .crate

/// What `Cargo.toml` inside a `.crate` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateManifest {
    pub name: String,
    pub version: String,
}

#[derive(Deserialize)]
struct Manifest {
    package: Option<ManifestPackage>,
}

#[derive(Deserialize)]
struct ManifestPackage {
    name: String,
    version: Option<toml::Value>,
}

/// Fails reads past `limit` bytes (a gzip bomb stops here).
/// The bounds a `.crate` is read under; `unpacked_limit` comes from the caller.
fn crate_limits(unpacked_limit: u64) -> ArchiveLimits {
    ArchiveLimits {
        max_entries: MAX_ENTRIES,
        max_unpacked: unpacked_limit,
        ..ArchiveLimits::DEFAULT
    }
}

/// Reads a `.crate` (gzip + tar) and returns its manifest. Every entry must be a file or
/// folder under `{name}-{version}/`, with no `..`, absolute path or link; the gzip stream is
/// read to its end so a corrupt archive is refused. `name` and `version` come from the
/// metadata; the manifest must agree with them. Extension headers, entries and unpacked bytes
/// are bounded by `packyard_core::archive`.
pub fn read_crate(
    reader: impl Read,
    name: &str,
    version: &str,
    unpacked_limit: u64,
) -> Result<CrateManifest, PublishError> {
    let bad = |what: String| invalid(format!("the .crate file is invalid: {what}"));
    let prefix = format!("{name}-{version}");
    let manifest_path = std::path::Path::new(&prefix).join("Cargo.toml");
    let mut manifest: Option<CrateManifest> = None;
    let limits = crate_limits(unpacked_limit);
    archive::walk_tar_gz(reader, &limits, |entry: &mut TarMember<'_>| {
        let kind = entry.kind();
        if !(kind.is_file() || kind.is_dir()) {
            return Err(bad(format!(
                "it holds a {kind} `{}`: only files and folders are allowed",
                printable(&entry.path_lossy())
            )));
        }
        let path_text = entry.path_lossy().into_owned();
        let path = std::path::Path::new(&path_text);
        let mut parts = path.components();
        let top_ok = matches!(parts.next(), Some(Component::Normal(p)) if p == prefix.as_str());
        let rest_ok = parts.all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !top_ok || !rest_ok {
            return Err(bad(format!(
                "the entry `{}` is outside the folder `{prefix}/`",
                printable(&path_text)
            )));
        }
        if kind.is_file() && path == manifest_path {
            if manifest.is_some() {
                return Err(bad("it holds two Cargo.toml files".into()));
            }
            let bytes = entry.read_all(MAX_MANIFEST_LEN)?;
            let text = String::from_utf8(bytes)
                .map_err(|e| bad(format!("its Cargo.toml is not UTF-8 text ({e})")))?;
            manifest = Some(parse_manifest(&text)?);
        }
        Ok(Walk::Continue)
    })?;
    let manifest = manifest.ok_or_else(|| bad(format!("it has no `{prefix}/Cargo.toml`")))?;
    if manifest.name != name {
        return Err(invalid(format!(
            "the crate's Cargo.toml names the package `{}`, but the publish metadata says `{name}`",
            printable(&manifest.name)
        )));
    }
    if manifest.version != version {
        return Err(invalid(format!(
            "the crate's Cargo.toml has version `{}`, but the publish metadata says `{version}`",
            printable(&manifest.version)
        )));
    }
    Ok(manifest)
}

impl From<ArchiveError> for PublishError {
    fn from(e: ArchiveError) -> Self {
        let what = match e {
            ArchiveError::Malformed(detail) => {
                format!("it is not a gzipped tar archive ({detail})")
            }
            ArchiveError::UnpackedTooLarge { limit } => {
                format!("it unpacks to more than {limit} bytes")
            }
            ArchiveError::TooManyEntries { limit } => format!("it holds more than {limit} entries"),
            ArchiveError::MemberTooLarge { .. } => "its Cargo.toml is larger than 1 MiB".into(),
            other => other.to_string(),
        };
        invalid(format!("the .crate file is invalid: {what}"))
    }
}

fn parse_manifest(text: &str) -> Result<CrateManifest, PublishError> {
    let parsed: Manifest = toml::from_str(text)
        .map_err(|e| invalid(format!("the crate's Cargo.toml does not parse: {e}")))?;
    let package = parsed
        .package
        .ok_or_else(|| invalid("the crate's Cargo.toml has no [package] section"))?;
    let version = match package.version {
        Some(toml::Value::String(s)) => s,
        // Cargo normalizes the manifest it packs; anything else was not made by `cargo package`.
        Some(_) => return Err(invalid("the crate's Cargo.toml has a non-string version")),
        None => "0.0.0".into(),
    };
    Ok(CrateManifest {
        name: package.name,
        version,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::io::Write;

    fn targz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (path, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            // set_path refuses `..`; write the name bytes directly for hostile archives.
            let name = &mut h.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    const TOML: &[u8] = b"[package]\nname = \"demo\"\nversion = \"1.0.0\"\nedition = \"2021\"\n";

    fn meta_json(name: &str, vers: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "name": name, "vers": vers, "deps": [], "features": {},
            "authors": [], "description": "d", "keywords": [], "categories": [],
            "badges": {}, "links": null
        }))
        .unwrap()
    }

    fn body(json: &[u8], krate: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&(json.len() as u32).to_le_bytes());
        b.extend_from_slice(json);
        b.extend_from_slice(&(krate.len() as u32).to_le_bytes());
        b.extend_from_slice(krate);
        b
    }

    #[test]
    fn names_follow_crates_io_rules() {
        for ok in ["serde", "a", "foo_bar-baz", "X1", &"a".repeat(64)] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            "-a",
            "_a",
            "a b",
            "a.b",
            "ä",
            "a/b",
            &"a".repeat(65),
            "std",
            "CON",
            "proc_macro",
            "Proc-Macro",
            "nul",
        ] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_normalize_case_and_separators() {
        assert_eq!(normalize_name("Foo_Bar-baz"), "foo-bar-baz");
        assert_eq!(normalize_name("foo-bar"), normalize_name("FOO_BAR"));
    }

    #[test]
    fn index_paths_follow_the_registry_layout() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("AB"), "2/ab");
        assert_eq!(index_path("abc"), "3/a/abc");
        assert_eq!(index_path("Serde_Json"), "se/rd/serde_json");
        assert_eq!(index_path("cargo"), "ca/rg/cargo");
    }

    #[test]
    fn versions_are_semver_and_ordered_by_it() {
        assert!(parse_version("1.0.0-alpha.1+build").is_ok());
        for bad in ["1.0", "v1.0.0", "1.0.0.0", "", "01.0.0"] {
            assert!(parse_version(bad).is_err(), "{bad:?}");
        }
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("1.10.0", "1.9.0"), Greater);
        assert_eq!(compare_versions("1.0.0-alpha", "1.0.0"), Less);
        assert_eq!(compare_versions("junk", "0.0.1"), Less);
    }

    #[test]
    fn index_entry_renames_and_splits_new_feature_syntax() {
        let meta = parse_metadata(
            serde_json::json!({
                "name": "app", "vers": "0.1.0",
                "deps": [
                    {"name": "serde", "version_req": "^1", "features": ["derive"], "optional": true,
                     "default_features": false, "target": null, "kind": "normal",
                     "registry": "https://github.com/rust-lang/crates.io-index",
                     "explicit_name_in_toml": "serde1"},
                    {"name": "cc", "version_req": "^1.0", "features": [], "optional": false,
                     "default_features": true, "target": "cfg(unix)", "kind": "build"}
                ],
                "features": {"default": ["std"], "std": [], "json": ["dep:serde1"], "x": ["serde1?/std"]},
                "links": "z", "rust_version": "1.70"
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        let e = index_entry(&meta, "abc");
        let line = serde_json::to_value(&e).unwrap();
        assert_eq!(
            line,
            serde_json::json!({
                "name": "app", "vers": "0.1.0", "cksum": "abc", "yanked": false, "links": "z",
                "rust_version": "1.70", "v": 2,
                "features": {"default": ["std"], "std": []},
                "features2": {"json": ["dep:serde1"], "x": ["serde1?/std"]},
                "deps": [
                    {"name": "serde1", "package": "serde", "req": "^1", "features": ["derive"],
                     "optional": true, "default_features": false, "target": null, "kind": "normal",
                     "registry": "https://github.com/rust-lang/crates.io-index"},
                    {"name": "cc", "req": "^1.0", "features": [], "optional": false,
                     "default_features": true, "target": "cfg(unix)", "kind": "build"}
                ]
            })
        );
        // Old-style features only: no features2, no v.
        let plain = parse_metadata(&meta_json("demo", "1.0.0")).unwrap();
        let line = serde_json::to_value(index_entry(&plain, "x")).unwrap();
        assert!(line.get("features2").is_none() && line.get("v").is_none());
    }

    #[test]
    fn bad_metadata_is_refused_with_a_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"{not json", "not valid JSON"),
            (br#"{"name":"std","vers":"1.0.0"}"#, "reserved"),
            (br#"{"name":"a b","vers":"1.0.0"}"#, "may only contain"),
            (br#"{"name":"ok","vers":"1.0"}"#, "not valid semver"),
            (
                br#"{"name":"ok","vers":"1.0.0","deps":[{"name":"x","version_req":"not a req"}]}"#,
                "invalid version requirement",
            ),
            (
                br#"{"name":"ok","vers":"1.0.0","deps":[{"name":"x","version_req":"1","kind":"weird"}]}"#,
                "unknown kind",
            ),
        ];
        for (json, want) in cases {
            let err = parse_metadata(json).unwrap_err().to_string();
            assert!(err.contains(want), "{err} should mention {want}");
        }
    }

    #[test]
    fn body_framing_checks_every_length() {
        let krate = targz(&[("demo-1.0.0/Cargo.toml", TOML)]);
        let json = meta_json("demo", "1.0.0");
        let good = body(&json, &krate);
        let (meta, got) = split_publish_body(&good, 1 << 20).unwrap();
        assert_eq!((meta.name.as_str(), got), ("demo", &krate[..]));
        // Truncated anywhere.
        for cut in [0, 3, 10, json.len() + 6, good.len() - 1] {
            assert!(matches!(
                split_publish_body(&good[..cut], 1 << 20),
                Err(PublishError::Framing(_))
            ));
        }
        // Trailing bytes: the crate length lied.
        let mut long = good.clone();
        long.push(0);
        assert!(matches!(
            split_publish_body(&long, 1 << 20),
            Err(PublishError::Framing(_))
        ));
        // Over the limit.
        assert!(matches!(
            split_publish_body(&good, 10),
            Err(PublishError::TooLarge { .. })
        ));
        // A metadata length over the limit is refused before anything is read.
        assert!(metadata_len((MAX_METADATA_LEN + 1).to_le_bytes()).is_err());
        assert!(metadata_len(0u32.to_le_bytes()).is_err());
    }

    #[test]
    fn a_good_crate_yields_its_manifest() {
        let krate = targz(&[
            ("demo-1.0.0/Cargo.toml", TOML),
            ("demo-1.0.0/src/lib.rs", b"pub fn f() {}"),
        ]);
        let m = read_crate(&krate[..], "demo", "1.0.0", MAX_UNPACKED_LEN).unwrap();
        assert_eq!(m.name, "demo");
        assert_eq!(m.version, "1.0.0");
    }

    #[test]
    fn a_crate_packed_by_cargo_is_read() {
        let krate: &[u8] =
            include_bytes!("../../../../tests/fixtures/cargo/fixture-demo-0.1.0.crate");
        let m = read_crate(krate, "fixture-demo", "0.1.0", MAX_UNPACKED_LEN).unwrap();
        assert_eq!(
            (m.name.as_str(), m.version.as_str()),
            ("fixture-demo", "0.1.0")
        );
        // The same bytes under another declared name or version are refused.
        assert!(read_crate(krate, "fixture_demo", "0.1.0", MAX_UNPACKED_LEN).is_err());
        assert!(read_crate(krate, "fixture-demo", "0.1.1", MAX_UNPACKED_LEN).is_err());
    }

    #[test]
    fn hostile_or_broken_crates_are_refused() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"plain text, not gzip".to_vec(), "not a gzipped tar"),
            (
                {
                    let mut e = flate2::write::GzEncoder::new(Vec::new(), Default::default());
                    e.write_all(&[7u8; 1024]).unwrap();
                    e.finish().unwrap()
                },
                "not a gzipped tar",
            ),
            (
                targz(&[
                    ("demo-1.0.0/Cargo.toml", TOML),
                    ("demo-1.0.0/../../etc/passwd", b"x"),
                ]),
                "outside the folder",
            ),
            (
                targz(&[("demo-1.0.0/Cargo.toml", TOML), ("other/file", b"x")]),
                "outside the folder",
            ),
            (
                targz(&[("/demo-1.0.0/Cargo.toml", TOML)]),
                "outside the folder",
            ),
            (targz(&[("demo-1.0.0/src/lib.rs", b"")]), "has no"),
            (
                targz(&[(
                    "demo-1.0.0/Cargo.toml",
                    b"[package]\nname = \"other\"\nversion = \"1.0.0\"\n",
                )]),
                "names the package `other`",
            ),
            (
                targz(&[(
                    "demo-1.0.0/Cargo.toml",
                    b"[package]\nname = \"demo\"\nversion = \"2.0.0\"\n",
                )]),
                "has version `2.0.0`",
            ),
            (
                targz(&[("demo-1.0.0/Cargo.toml", b"not = toml = at all")]),
                "does not parse",
            ),
        ];
        for (krate, want) in cases {
            let err = read_crate(&krate[..], "demo", "1.0.0", MAX_UNPACKED_LEN)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err:?} should mention {want:?}");
        }
        // A truncated archive.
        let krate = targz(&[("demo-1.0.0/Cargo.toml", TOML)]);
        assert!(read_crate(&krate[..krate.len() - 5], "demo", "1.0.0", MAX_UNPACKED_LEN).is_err());
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_unpacked_limit() {
        let big = vec![0u8; 1 << 20];
        let krate = targz(&[("demo-1.0.0/Cargo.toml", TOML), ("demo-1.0.0/big", &big)]);
        let err = read_crate(&krate[..], "demo", "1.0.0", 64 * 1024)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unpacks to more than"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn readers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(0u8..=255, 0..512)) {
            let _ = split_publish_body(&bytes, 1 << 16);
            let _ = read_crate(&bytes[..], "demo", "1.0.0", 1 << 16);
        }

        #[test]
        fn normalized_names_are_stable(name in "[A-Za-z][A-Za-z0-9_-]{0,63}") {
            proptest::prop_assert!(check_name_syntax(&name).is_ok());
            let n = normalize_name(&name);
            proptest::prop_assert_eq!(normalize_name(&n), n.clone());
        }
    }
}
