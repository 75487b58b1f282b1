//! Pure parsing of what a Python distribution says about itself (no I/O; fuzzable).
//!
//! - Names: PEP 508 (<https://peps.python.org/pep-0508/#names>) for what is valid, PEP 503
//!   (<https://peps.python.org/pep-0503/#normalized-names>) for how names compare.
//! - Versions: PEP 440, through `pep440_rs`.
//! - File names: the wheel spec
//!   (<https://packaging.python.org/en/latest/specifications/binary-distribution-format/>)
//!   and the sdist spec (`{name}-{version}.tar.gz`; legacy `.zip` sdists are accepted).
//! - Core metadata (`METADATA`, `PKG-INFO`):
//!   <https://packaging.python.org/en/latest/specifications/core-metadata/>, an RFC 822-style
//!   header block.

use std::cmp::Ordering;
use std::str::FromStr;

pub use packyard_core::error::printable;
use pep440_rs::Version;

/// A file or metadata problem, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(msg: impl Into<String>) -> Invalid {
    Invalid(msg.into())
}

/// Longest name or version we store.
pub const MAX_NAME_LEN: usize = 200;
/// Longest file name we accept.
pub const MAX_FILE_NAME_LEN: usize = 255;

/// PEP 503: lower case, every run of `-`, `_` and `.` becomes one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_sep = false;
        }
    }
    out
}

/// PEP 508: ASCII letters and digits, with `.`, `_` and `-` inside (not at either end).
pub fn validate_name(name: &str) -> Result<&str, Invalid> {
    let bytes = name.as_bytes();
    let edge_ok = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && edge_ok(bytes.first())
        && edge_ok(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(name)
    } else {
        Err(invalid(format!(
            "'{}' is not a valid project name: use ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit (PEP 508)",
            printable(name)
        )))
    }
}

/// A PEP 440 version.
pub fn parse_version(version: &str) -> Result<Version, Invalid> {
    if version.is_empty() || version.len() > MAX_NAME_LEN {
        return Err(invalid(format!(
            "'{}' is not a valid PEP 440 version",
            printable(version)
        )));
    }
    Version::from_str(version.trim()).map_err(|_| {
        invalid(format!(
            "'{}' is not a valid PEP 440 version",
            printable(version)
        ))
    })
}

/// Version order as pip sees it; strings that are not PEP 440 sort after, by text.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (Version::from_str(a), Version::from_str(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// Which kind of distribution a file is, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistKind {
    Wheel,
    /// `.tar.gz`
    SdistTarGz,
    /// Legacy `.zip` sdist.
    SdistZip,
}

impl DistKind {
    /// The `filetype` form field clients send for it.
    pub fn filetype(self) -> &'static str {
        match self {
            DistKind::Wheel => "bdist_wheel",
            DistKind::SdistTarGz | DistKind::SdistZip => "sdist",
        }
    }
}

/// What a distribution's file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistFileName {
    pub kind: DistKind,
    /// The name as written in the file name.
    pub name: String,
    pub version: Version,
    /// The wheel's python tag (`py3`), or `source` for an sdist.
    pub python_tag: String,
}

/// Parses and validates a distribution file name. Path separators, control characters and
/// anything outside the characters these names use are refused.
pub fn parse_file_name(file_name: &str) -> Result<DistFileName, Invalid> {
    let bad = |why: &str| {
        invalid(format!(
            "'{}' is not a valid distribution file name: {why}",
            printable(file_name)
        ))
    };
    if file_name.is_empty() || file_name.len() > MAX_FILE_NAME_LEN {
        return Err(bad("it must have 1 to 255 characters"));
    }
    if file_name.contains(['/', '\\']) {
        return Err(bad("it must not contain path separators"));
    }
    if file_name.starts_with('.')
        || !file_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'!'))
    {
        return Err(bad(
            "use ASCII letters, digits, '.', '_', '-', '+' and '!' only",
        ));
    }
    let (kind, stem) = if let Some(stem) = file_name.strip_suffix(".whl") {
        (DistKind::Wheel, stem)
    } else if let Some(stem) = file_name.strip_suffix(".tar.gz") {
        (DistKind::SdistTarGz, stem)
    } else if let Some(stem) = file_name.strip_suffix(".zip") {
        (DistKind::SdistZip, stem)
    } else {
        return Err(bad("it must end in .whl, .tar.gz or .zip"));
    };
    let (name, version, python_tag) = match kind {
        DistKind::Wheel => {
            // {name}-{version}(-{build})?-{python}-{abi}-{platform}
            let parts: Vec<&str> = stem.split('-').collect();
            if parts.len() != 5 && parts.len() != 6 {
                return Err(bad(
                    "a wheel is named {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl",
                ));
            }
            if parts.iter().any(|p| p.is_empty()) {
                return Err(bad("it has an empty part"));
            }
            (parts[0], parts[1], parts[parts.len() - 3].to_owned())
        }
        DistKind::SdistTarGz | DistKind::SdistZip => {
            let Some((name, version)) = stem.rsplit_once('-') else {
                return Err(bad("an sdist is named {name}-{version}.tar.gz"));
            };
            (name, version, "source".to_owned())
        }
    };
    validate_name(name).map_err(|e| bad(&e.0))?;
    let version = parse_version(version).map_err(|e| bad(&e.0))?;
    Ok(DistFileName {
        kind,
        name: name.to_owned(),
        version,
        python_tag,
    })
}

/// The fields of a core metadata file that the registry uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreMetadata {
    pub metadata_version: Option<String>,
    pub name: String,
    pub version: Version,
    /// The version as written.
    pub version_text: String,
    pub requires_python: Option<String>,
    pub summary: Option<String>,
}

/// Parses a `METADATA` / `PKG-INFO` file: UTF-8 headers up to the first empty line (the
/// body after it is the description and is ignored). `Name` and `Version` are required and
/// validated.
pub fn parse_core_metadata(bytes: &[u8]) -> Result<CoreMetadata, Invalid> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| invalid("the core metadata file is not valid UTF-8"))?;
    let mut metadata_version = None;
    let mut name = None;
    let mut version = None;
    let mut requires_python = None;
    let mut summary = None;
    let mut current: Option<(&str, String)> = None;
    let mut store = |key: &str, value: String| {
        let slot = match key.to_ascii_lowercase().as_str() {
            "metadata-version" => &mut metadata_version,
            "name" => &mut name,
            "version" => &mut version,
            "requires-python" => &mut requires_python,
            "summary" => &mut summary,
            _ => return,
        };
        // The first occurrence wins; these fields are single-use.
        if slot.is_none() {
            *slot = Some(value);
        }
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // A continuation of the previous header.
            if let Some((_, value)) = current.as_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((key, value)) = current.take() {
            store(key, value);
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(invalid(format!(
                "the core metadata has a line that is not a 'Key: value' header: '{}'",
                printable(line)
            )));
        };
        current = Some((key.trim(), value.trim().to_owned()));
    }
    if let Some((key, value)) = current.take() {
        store(key, value);
    }
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid("the core metadata has no Name field"))?;
    validate_name(&name)?;
    let version_text = version
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid("the core metadata has no Version field"))?;
    let version = parse_version(&version_text)?;
    Ok(CoreMetadata {
        metadata_version,
        name,
        version,
        version_text,
        requires_python: requires_python.filter(|r| !r.is_empty()),
        summary,
    })
}

/// Checks that the file's own metadata agrees with its file name.
pub fn check_agreement(file: &DistFileName, meta: &CoreMetadata) -> Result<(), Invalid> {
    if normalize_name(&file.name) != normalize_name(&meta.name) {
        return Err(invalid(format!(
            "the file name says the project is '{}' but its metadata says '{}'",
            file.name, meta.name
        )));
    }
    if file.version != meta.version {
        return Err(invalid(format!(
            "the file name says the version is '{}' but its metadata says '{}'",
            file.version, meta.version_text
        )));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_normalize_per_pep_503() {
        assert_eq!(normalize_name("Friendly-Bard"), "friendly-bard");
        assert_eq!(normalize_name("FRIENDLY-BARD"), "friendly-bard");
        assert_eq!(normalize_name("friendly.bard"), "friendly-bard");
        assert_eq!(normalize_name("friendly_bard"), "friendly-bard");
        assert_eq!(normalize_name("friendly--bard"), "friendly-bard");
        assert_eq!(normalize_name("FrIeNdLy-._.-bArD"), "friendly-bard");
    }

    #[test]
    fn names_follow_pep_508() {
        assert!(validate_name("requests").is_ok());
        assert!(validate_name("zope.interface").is_ok());
        assert!(validate_name("a").is_ok());
        assert!(validate_name("-a").is_err());
        assert!(validate_name("a-").is_err());
        assert!(validate_name("a b").is_err());
        assert!(validate_name("").is_err());
        assert!(validate_name("ünï").is_err());
        assert!(validate_name(&"a".repeat(201)).is_err());
    }

    #[test]
    fn versions_order_per_pep_440() {
        assert_eq!(compare_versions("1.0", "1.0.0"), Ordering::Equal);
        assert_eq!(compare_versions("1.0a1", "1.0"), Ordering::Less);
        assert_eq!(compare_versions("1.0.post1", "1.0"), Ordering::Greater);
        assert_eq!(compare_versions("1.10", "1.9"), Ordering::Greater);
        assert_eq!(compare_versions("1.0.dev1", "1.0a1"), Ordering::Less);
        assert!(parse_version("not.a.version").is_err());
        assert!(parse_version("1.0-beta-beta").is_err());
    }

    #[test]
    fn wheel_file_names_parse() {
        let f = parse_file_name("demo_pkg-1.2.0-py3-none-any.whl").unwrap();
        assert_eq!(f.kind, DistKind::Wheel);
        assert_eq!(f.name, "demo_pkg");
        assert_eq!(f.version.to_string(), "1.2.0");
        assert_eq!(f.python_tag, "py3");
        let f = parse_file_name("demo-1.0-1-cp311-cp311-manylinux_2_17_x86_64.whl").unwrap();
        assert_eq!(f.python_tag, "cp311");
        assert!(parse_file_name("demo-1.0.whl").is_err());
        assert!(parse_file_name("demo-1.0-py3-none-any-x-y-z.whl").is_err());
    }

    #[test]
    fn sdist_file_names_parse() {
        let f = parse_file_name("demo-pkg-1.0.tar.gz").unwrap();
        assert_eq!(f.kind, DistKind::SdistTarGz);
        assert_eq!(f.name, "demo-pkg");
        assert_eq!(f.python_tag, "source");
        assert_eq!(
            parse_file_name("demo-1.0.zip").unwrap().kind,
            DistKind::SdistZip
        );
        assert!(parse_file_name("demo.tar.gz").is_err());
        assert!(parse_file_name("demo-1.0.tar.bz2").is_err());
    }

    #[test]
    fn file_names_with_paths_or_odd_characters_are_refused() {
        for bad in [
            "../demo-1.0.tar.gz",
            "dir/demo-1.0.tar.gz",
            "dir\\demo-1.0.tar.gz",
            ".demo-1.0.tar.gz",
            "demo-1.0 .tar.gz",
            "demo-1.0\n.tar.gz",
            "demo-ü-1.0.tar.gz",
            "",
        ] {
            let err = parse_file_name(bad).unwrap_err();
            assert!(
                err.0.contains("not a valid distribution file name"),
                "{bad}: {err}"
            );
        }
        assert!(parse_file_name("demo-not_a_version.tar.gz").is_err());
    }

    const METADATA: &str = "Metadata-Version: 2.1\nName: Demo.Pkg\nVersion: 1.2.0\nSummary: A demo\n  continued\nRequires-Python: >=3.8\nRequires-Dist: requests\n\nLong description\nName: ignored\n";

    #[test]
    fn core_metadata_parses() {
        let m = parse_core_metadata(METADATA.as_bytes()).unwrap();
        assert_eq!(m.name, "Demo.Pkg");
        assert_eq!(m.version_text, "1.2.0");
        assert_eq!(m.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(m.summary.as_deref(), Some("A demo continued"));
        assert_eq!(m.metadata_version.as_deref(), Some("2.1"));
    }

    #[test]
    fn core_metadata_without_name_or_version_is_refused() {
        let err = parse_core_metadata(b"Metadata-Version: 2.1\nVersion: 1.0\n").unwrap_err();
        assert!(err.0.contains("no Name"));
        let err = parse_core_metadata(b"Metadata-Version: 2.1\nName: x\n").unwrap_err();
        assert!(err.0.contains("no Version"));
        let err = parse_core_metadata(b"Name: x\nVersion: one\n").unwrap_err();
        assert!(err.0.contains("PEP 440"));
        assert!(parse_core_metadata(b"\xff\xfe").is_err());
        assert!(parse_core_metadata(b"garbage without colon\n").is_err());
    }

    #[test]
    fn metadata_must_agree_with_the_file_name() {
        let meta = parse_core_metadata(METADATA.as_bytes()).unwrap();
        let ok = parse_file_name("demo_pkg-1.2-py3-none-any.whl").unwrap();
        assert!(check_agreement(&ok, &meta).is_ok());
        let other_name = parse_file_name("other-1.2.0-py3-none-any.whl").unwrap();
        assert!(check_agreement(&other_name, &meta)
            .unwrap_err()
            .0
            .contains("project is 'other'"));
        let other_version = parse_file_name("demo_pkg-1.3.0-py3-none-any.whl").unwrap();
        assert!(check_agreement(&other_version, &meta)
            .unwrap_err()
            .0
            .contains("version is '1.3.0'"));
    }

    proptest! {
        #[test]
        fn normalizing_is_idempotent(name in "[A-Za-z0-9._-]{1,40}") {
            let once = normalize_name(&name);
            prop_assert_eq!(normalize_name(&once), once.clone());
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,80}") {
            let _ = parse_file_name(&s);
            let _ = parse_core_metadata(s.as_bytes());
            let _ = validate_name(&s);
        }

        #[test]
        fn valid_names_survive_a_file_name_round_trip(name in "[a-z][a-z0-9]{0,10}(_[a-z0-9]{1,5})?", minor in 0u32..50) {
            let file = format!("{name}-1.{minor}-py3-none-any.whl");
            let parsed = parse_file_name(&file).unwrap();
            prop_assert_eq!(parsed.name, name);
            prop_assert_eq!(parsed.version.to_string(), format!("1.{minor}"));
        }
    }
}
