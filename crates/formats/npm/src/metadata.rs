//! Pure npm rules: package names, versions, dist-tags, and the `package.json` inside a
//! published tarball. No I/O beyond the `Read` handed in, so it can be fuzzed.
//!
//! Names follow `validate-npm-package-name` (rules for new packages):
//! <https://github.com/npm/validate-npm-package-name#naming-rules>. Versions are SemVer 2.0
//! as npm's `semver` reads them after `npm publish` has cleaned them.

use std::cmp::Ordering;
use std::io::Read;

use packyard_core::archive::{self, ArchiveError, ArchiveLimits, TarMember, Walk};
pub use packyard_core::error::printable;
use serde_json::{Map, Value};

/// Longest name npm accepts.
pub const MAX_NAME_LEN: usize = 214;
/// The `package.json` in a tarball may not be larger than this.
pub const MAX_PACKAGE_JSON: u64 = 1024 * 1024;
/// How many tar entries are looked at for `package.json` before giving up.
pub const MAX_TAR_ENTRIES: usize = 10_000;
/// How many decompressed bytes are read at most while looking for `package.json`.
pub const MAX_UNPACKED: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(s: impl Into<String>) -> Invalid {
    Invalid(s.into())
}

/// A valid npm package name, split into its scope (without `@`) and its bare name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpmName {
    pub scope: Option<String>,
    pub bare: String,
}

impl NpmName {
    /// `@scope/name` or `name`.
    pub fn full(&self) -> String {
        match &self.scope {
            Some(s) => format!("@{s}/{}", self.bare),
            None => self.bare.clone(),
        }
    }
    /// The tarball's file name for `version`, as the npm registry names it.
    pub fn tarball_name(&self, version: &str) -> String {
        format!("{}-{version}.tgz", self.bare)
    }
}

fn valid_part(part: &str) -> bool {
    !part.is_empty()
        && !part.starts_with(['.', '_'])
        && part.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_')
        })
}

/// Checks `name` against npm's rules for new packages.
pub fn parse_name(name: &str) -> Result<NpmName, Invalid> {
    let bad = |why: &str| invalid(format!("invalid package name '{}': {why}", printable(name)));
    if name.is_empty() {
        return Err(bad("name length must be greater than zero"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(bad("name can no longer contain more than 214 characters"));
    }
    if name.trim() != name {
        return Err(bad("name cannot contain leading or trailing spaces"));
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(bad("name can no longer contain capital letters"));
    }
    let (scope, bare) = match name.strip_prefix('@') {
        Some(rest) => match rest.split_once('/') {
            Some((scope, bare)) => (Some(scope), bare),
            None => return Err(bad("a scoped name is '@scope/name'")),
        },
        None => (None, name),
    };
    if name.starts_with(['.', '_']) {
        return Err(bad("name cannot start with a period or an underscore"));
    }
    if let Some(scope) = scope {
        if !(valid_part(scope) || scope.starts_with(['.', '_']) && valid_part(&scope[1..])) {
            return Err(bad("name can only contain URL-friendly characters"));
        }
    }
    if !valid_part(bare) {
        return Err(bad(
            "name can only contain lower-case letters, digits, '-', '.' and '_', and cannot start with '.' or '_'",
        ));
    }
    if matches!(bare, "node_modules" | "favicon.ico") && scope.is_none() {
        return Err(bad("that name is not allowed"));
    }
    Ok(NpmName {
        scope: scope.map(str::to_owned),
        bare: bare.to_owned(),
    })
}

/// Checks a version: SemVer 2.0, written the way `npm publish` writes it.
pub fn parse_version(version: &str) -> Result<semver::Version, Invalid> {
    let v = semver::Version::parse(version).map_err(|e| {
        invalid(format!(
            "invalid version '{}': {e}; npm versions are SemVer, e.g. 1.2.3 or 1.2.3-beta.1",
            printable(version)
        ))
    })?;
    if version.len() > 255 {
        return Err(invalid("invalid version: longer than 255 characters"));
    }
    Ok(v)
}

/// Version order as npm sees it; what does not parse sorts first, by text.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(x), Ok(y)) => x.cmp_precedence(&y).then_with(|| x.cmp(&y)),
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// A dist-tag name: short, printable, and not something npm would read as a version range.
pub fn validate_tag(tag: &str) -> Result<(), Invalid> {
    let ok = !tag.is_empty()
        && tag.len() <= 255
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && !tag.starts_with(['.', '-'])
        && semver::VersionReq::parse(tag).is_err();
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "invalid tag '{}': use letters, digits, '-', '.' and '_', and not a version range",
            printable(tag)
        )))
    }
}

/// `sha512-<base64>` from a hex sha512, as `dist.integrity`.
pub fn integrity(sha512_hex: &str) -> String {
    use base64::Engine;
    let bytes: Vec<u8> = (0..sha512_hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(sha512_hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The manifest fields the abbreviated packument (`application/vnd.npm.install-v1+json`)
/// keeps, as documented in npm's registry API.
pub const ABBREVIATED_FIELDS: &[&str] = &[
    "name",
    "version",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "bundleDependencies",
    "bundledDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "acceptDependencies",
    "bin",
    "directories",
    "engines",
    "os",
    "cpu",
    "libc",
    "funding",
    "license",
    "_hasShrinkwrap",
    "hasInstallScript",
];

/// Whether the manifest has install scripts (`hasInstallScript` of the abbreviated form).
pub fn has_install_script(manifest: &Map<String, Value>) -> bool {
    manifest
        .get("scripts")
        .and_then(Value::as_object)
        .is_some_and(|s| {
            ["preinstall", "install", "postinstall"]
                .iter()
                .any(|k| s.contains_key(*k))
        })
}

/// The bounds a published tarball is read under (`packyard_core::archive`).
pub const TARBALL_LIMITS: ArchiveLimits = ArchiveLimits {
    max_entries: MAX_TAR_ENTRIES,
    max_unpacked: MAX_UNPACKED,
    ..ArchiveLimits::DEFAULT
};

/// Reads `<top>/package.json` (npm packs it as `package/package.json`) from a gzipped
/// tarball, bounded in entries, extension headers, decompressed bytes and the file's size.
pub fn read_package_json<R: Read>(tgz: R) -> Result<Map<String, Value>, Invalid> {
    let mut text = None;
    archive::walk_tar_gz(tgz, &TARBALL_LIMITS, |entry: &mut TarMember<'_>| {
        let is_manifest = {
            let mut parts = entry
                .path_bytes()
                .split(|b| *b == b'/')
                .filter(|p| !p.is_empty() && *p != b".");
            let top = parts.next();
            top.is_some() && parts.next() == Some(b"package.json") && parts.next().is_none()
        };
        if !is_manifest || !entry.kind().is_file() {
            return Ok(Walk::Continue);
        }
        text = Some(entry.read_all(MAX_PACKAGE_JSON)?);
        Ok(Walk::Stop)
    })
    .map_err(tarball_error)?;
    let Some(text) = text else {
        return Err(invalid(
            "the tarball holds no package.json (expected package/package.json, as npm pack writes it)",
        ));
    };
    match serde_json::from_slice::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(invalid("package.json in the tarball is not a JSON object")),
        Err(e) => Err(invalid(format!(
            "package.json in the tarball is not valid JSON: {e}"
        ))),
    }
}

/// The refusal npm prints for a tarball the bounded reader would not read.
fn tarball_error(e: ArchiveError) -> Invalid {
    match e {
        ArchiveError::Malformed(detail) => invalid(format!(
            "the attachment is not a gzipped tar archive (npm pack output): {detail}"
        )),
        ArchiveError::MemberTooLarge { .. } => invalid(format!(
            "package.json in the tarball is larger than {MAX_PACKAGE_JSON} bytes"
        )),
        other => invalid(format!("the tarball cannot be read: {other}")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;

    fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (path, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, path, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn names_follow_npm_rules() {
        assert_eq!(parse_name("left-pad").unwrap().full(), "left-pad");
        let scoped = parse_name("@acme/ui.kit_2").unwrap();
        assert_eq!(scoped.scope.as_deref(), Some("acme"));
        assert_eq!(scoped.tarball_name("1.0.0"), "ui.kit_2-1.0.0.tgz");
        for bad in [
            "",
            "Caps",
            ".dot",
            "_under",
            " sp",
            "a b",
            "@scope",
            "@/x",
            "@s/",
            "a/b",
            "@a/b/c",
            "x~y",
            "it's",
            "node_modules",
            "a%2fb",
            "ü",
        ] {
            assert!(parse_name(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_name(&"a".repeat(215)).is_err());
    }

    #[test]
    fn versions_are_semver() {
        assert!(parse_version("1.2.3").is_ok());
        assert!(parse_version("1.2.3-beta.1+build.5").is_ok());
        for bad in ["1.2", "v1.2.3", "01.2.3", "latest", "", "1.2.3 "] {
            assert!(parse_version(bad).is_err(), "{bad:?}");
        }
        assert_eq!(compare_versions("1.10.0", "1.9.0"), Ordering::Greater);
        assert_eq!(compare_versions("2.0.0-rc.1", "2.0.0"), Ordering::Less);
        assert_eq!(compare_versions("junk", "0.0.1"), Ordering::Less);
    }

    #[test]
    fn tags_that_look_like_versions_are_refused() {
        assert!(validate_tag("beta").is_ok());
        assert!(validate_tag("next-2").is_ok());
        for bad in ["", "1.2.3", "^1", "1.x", "a b", "-x"] {
            assert!(validate_tag(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn integrity_is_sha512_base64() {
        // sha512("") from coreutils.
        let hex = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
        assert_eq!(
            integrity(hex),
            "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
        );
    }

    #[test]
    fn package_json_is_read_from_the_tarball() {
        let data = tgz(&[
            ("package/README.md", b"hi"),
            ("package/package.json", br#"{"name":"a","version":"1.0.0"}"#),
        ]);
        let m = read_package_json(&data[..]).unwrap();
        assert_eq!(m["name"], "a");
        // Another top folder works too (some tools pack that way).
        let data = tgz(&[("pkg/package.json", br#"{"name":"b"}"#)]);
        assert_eq!(read_package_json(&data[..]).unwrap()["name"], "b");
    }

    #[test]
    fn bad_tarballs_are_refused_with_a_reason() {
        let e = read_package_json(&b"not gzip at all"[..]).unwrap_err();
        assert!(e.0.contains("not a gzipped tar"), "{e}");
        let e = read_package_json(&tgz(&[("package/index.js", b"x")])[..]).unwrap_err();
        assert!(e.0.contains("no package.json"), "{e}");
        let e = read_package_json(&tgz(&[("package/package.json", b"[1]")])[..]).unwrap_err();
        assert!(e.0.contains("not a JSON object"), "{e}");
        let e = read_package_json(&tgz(&[("package/package.json", b"{")])[..]).unwrap_err();
        assert!(e.0.contains("not valid JSON"), "{e}");
        let e = read_package_json(&tgz(&[("package/sub/package.json", b"{}")])[..]).unwrap_err();
        assert!(e.0.contains("no package.json"), "{e}");
        // gzip of something that is not a tar.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&[7u8; 2000]).unwrap();
        assert!(read_package_json(&gz.finish().unwrap()[..]).is_err());
    }

    #[test]
    fn the_real_npm_pack_fixture_is_read() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../tests/fixtures/npm/fixture-pkg-1.0.0.tgz"
        );
        let bytes = std::fs::read(path).unwrap();
        let m = read_package_json(&bytes[..]).unwrap();
        assert_eq!(m["name"], "fixture-pkg");
        assert_eq!(m["version"], "1.0.0");
    }

    proptest! {
        #[test]
        fn name_parser_never_panics_and_round_trips(s in "\\PC{0,40}") {
            if let Ok(n) = parse_name(&s) {
                prop_assert_eq!(n.full(), s);
            }
        }
        #[test]
        fn tarball_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = read_package_json(&bytes[..]);
        }
    }
}
