//! Module paths and versions as the go command checks and compares them (pure, no I/O,
//! fuzzed): golang.org/x/mod/module's `CheckPath`, `CheckFilePath`, `Check` (the major
//! version suffix), the case-encoding of paths and versions in proxy URLs (`!` + lower case),
//! and golang.org/x/mod/semver's canonical versions, pseudo-versions and order.

use std::cmp::Ordering;

use packyard_core::FormatError;

/// Longest module path accepted (Go has no limit; every stored name has one).
pub const MAX_PATH: usize = 500;

/// The name as Packyard compares names: the module path, lower case. Go compares module
/// paths exactly, so the handlers also compare the stored path with the asked one; the
/// lower-case key makes two paths that differ only in case one name in a project (the
/// second is refused), as they cannot both live in a case-insensitive module cache.
pub fn normalize_name(name: &str) -> Result<String, FormatError> {
    check_path(name).map_err(FormatError)?;
    Ok(name.to_ascii_lowercase())
}

/// Windows' reserved names, refused as a path element (before its first dot) in any case.
const BAD_WINDOWS_NAMES: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

fn path_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_' | '~')
}

fn file_char_ok(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || "!#$%&()+,-.=@[]^_{}~ ".contains(c)
    } else {
        c.is_alphabetic()
    }
}

fn check_elem(elem: &str, file_name: bool) -> Result<(), String> {
    if elem.is_empty() {
        return Err("empty path element".into());
    }
    if elem.chars().all(|c| c == '.') {
        return Err(format!("invalid path element {elem:?}"));
    }
    if elem.starts_with('.') && !file_name {
        return Err("leading dot in path element".into());
    }
    if elem.ends_with('.') {
        return Err("trailing dot in path element".into());
    }
    let ok = if file_name {
        file_char_ok
    } else {
        path_char_ok
    };
    if let Some(c) = elem.chars().find(|&c| !ok(c)) {
        return Err(format!("invalid char {c:?}"));
    }
    let short = elem.split('.').next().unwrap_or(elem);
    if BAD_WINDOWS_NAMES
        .iter()
        .any(|bad| bad.eq_ignore_ascii_case(short))
    {
        return Err(format!(
            "{short:?} disallowed as path element component on Windows"
        ));
    }
    Ok(())
}

fn check_general(path: &str, file_name: bool) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty string".into());
    }
    if path.contains("..") {
        return Err("double dot".into());
    }
    if path.contains("//") {
        return Err("double slash".into());
    }
    if path.ends_with('/') {
        return Err("trailing slash".into());
    }
    path.split('/').try_for_each(|e| check_elem(e, file_name))
}

/// `module.CheckPath`: a valid module path, with the reason it is not.
pub fn check_path(path: &str) -> Result<(), String> {
    let shown = packyard_core::error::printable(path);
    let bad = |why: String| Err(format!("malformed module path {shown:?}: {why}"));
    if path.len() > MAX_PATH {
        return bad(format!("longer than {MAX_PATH} bytes"));
    }
    if let Err(why) = check_general(path, false) {
        return bad(why);
    }
    let first = path.split('/').next().unwrap_or("");
    if first.is_empty() {
        return bad("leading slash".into());
    }
    if !first.contains('.') {
        return bad("missing dot in first path element".into());
    }
    if path.starts_with('-') {
        return bad("leading dash in first path element".into());
    }
    if let Some(c) = first
        .chars()
        .find(|&c| !(c == '-' || c == '.' || c.is_ascii_digit() || c.is_ascii_lowercase()))
    {
        return bad(format!("invalid char {c:?} in first path element"));
    }
    if split_path_version(path).is_none() {
        return bad("invalid version".into());
    }
    Ok(())
}

/// `module.CheckFilePath`: a valid file path inside a module.
pub fn check_file_path(path: &str) -> Result<(), String> {
    check_general(path, true).map_err(|why| {
        format!(
            "malformed file path {:?}: {why}",
            packyard_core::error::printable(path)
        )
    })
}

/// `module.SplitPathVersion`: the path's major version suffix (`/v2`, or `.v1` for
/// gopkg.in), `""` when it has none; `None` when the suffix is malformed (`/v1`, `/v0`,
/// `/v1.2`, `/v02`).
pub fn split_path_version(path: &str) -> Option<&str> {
    if path.starts_with("gopkg.in/") {
        let mut i = path.len();
        if path.ends_with("-unstable") {
            i -= "-unstable".len();
        }
        let b = path.as_bytes();
        while i > 0 && b[i - 1].is_ascii_digit() {
            i -= 1;
        }
        if i <= 1 || b[i - 1] != b'v' || b[i - 2] != b'.' {
            return None;
        }
        let major = &path[i - 2..];
        if major.len() <= 2 || (major.as_bytes()[2] == b'0' && major != ".v0") {
            return None;
        }
        return Some(major);
    }
    let b = path.as_bytes();
    let mut i = b.len();
    let mut dot = false;
    while i > 0 && (b[i - 1].is_ascii_digit() || b[i - 1] == b'.') {
        dot |= b[i - 1] == b'.';
        i -= 1;
    }
    if i <= 1 || i == b.len() || b[i - 1] != b'v' || b[i - 2] != b'/' {
        return Some("");
    }
    let major = &path[i - 2..];
    if dot || major.len() <= 2 || major.as_bytes()[2] == b'0' || major == "/v1" {
        return None;
    }
    Some(major)
}

/// `module.Check` for a canonical version: the path's major version suffix matches the
/// version (`/vN` for vN ≥ 2, none for v0 and v1 and `+incompatible`).
pub fn check_path_major(path: &str, version: &GoVersion) -> Result<(), String> {
    let major = split_path_version(path).unwrap_or("");
    let ok = if major.is_empty() {
        version.major() <= 1 || version.incompatible
    } else if version.original.starts_with("v0.0.0-") && major == ".v1" {
        true
    } else {
        let want = major
            .trim_end_matches("-unstable")
            .trim_start_matches(['/', '.'])
            .trim_start_matches('v');
        !version.incompatible && want == version.major().to_string()
    };
    if ok {
        return Ok(());
    }
    let want = if major.is_empty() {
        "v0 or v1".to_owned()
    } else {
        major
            .trim_end_matches("-unstable")
            .trim_start_matches(['/', '.'])
            .to_owned()
    };
    Err(format!(
        "mismatched module path {path} and version {} (want {want})",
        version.original
    ))
}

/// The case-encoding of module paths and versions in proxy URLs: each upper-case letter
/// is `!` and its lower case.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Decodes [`escape`]: `!x` is `X`; an upper-case letter, a `!` not followed by a lower-case
/// letter, or a non-ASCII character is refused.
pub fn unescape(escaped: &str) -> Option<String> {
    let mut out = String::with_capacity(escaped.len());
    let mut bang = false;
    for c in escaped.chars() {
        if !c.is_ascii() {
            return None;
        }
        if bang {
            bang = false;
            if !c.is_ascii_lowercase() {
                return None;
            }
            out.push(c.to_ascii_uppercase());
        } else if c == '!' {
            bang = true;
        } else if c.is_ascii_uppercase() {
            return None;
        } else {
            out.push(c);
        }
    }
    (!bang).then_some(out)
}

/// `module.UnescapePath`: the module path an escaped URL segment names, checked.
pub fn unescape_path(escaped: &str) -> Result<String, String> {
    let path = unescape(escaped).ok_or_else(|| {
        format!(
            "invalid escaped module path {:?}",
            packyard_core::error::printable(escaped)
        )
    })?;
    check_path(&path)?;
    Ok(path)
}

/// A canonical Go version: `v` + semver (`vMAJOR.MINOR.PATCH[-pre]`), optionally with the
/// `+incompatible` build suffix and no other build metadata (`semver.Canonical` drops it,
/// so a version carrying it is not canonical).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoVersion {
    pub original: String,
    semver: semver::Version,
    pub incompatible: bool,
}

impl GoVersion {
    /// Parses a canonical version; the error says what is wrong as the go command would.
    pub fn parse(v: &str) -> Result<GoVersion, String> {
        let shown = packyard_core::error::printable(v);
        let Some(rest) = v.strip_prefix('v') else {
            return Err(format!(
                "version {shown:?} is not canonical: Go versions start with \"v\" (v1.2.3)"
            ));
        };
        if v.len() > 255 {
            return Err(format!("version {shown:?} is longer than 255 bytes"));
        }
        let parsed = semver::Version::parse(rest).map_err(|e| {
            format!("version {shown:?} is not a canonical semantic version (vMAJOR.MINOR.PATCH[-pre]): {e}")
        })?;
        let incompatible = match parsed.build.as_str() {
            "" => false,
            "incompatible" => true,
            _ => {
                return Err(format!(
                    "version {shown:?} is not canonical: build metadata other than +incompatible is dropped by Go"
                ))
            }
        };
        if incompatible && parsed.major < 2 {
            return Err(format!(
                "version {shown:?} is invalid: +incompatible is for major versions 2 and above"
            ));
        }
        Ok(GoVersion {
            original: v.to_owned(),
            semver: parsed,
            incompatible,
        })
    }

    pub fn major(&self) -> u64 {
        self.semver.major
    }

    /// No pre-release part (a release).
    pub fn is_release(&self) -> bool {
        self.semver.pre.is_empty()
    }

    /// `module.IsPseudoVersion`: `vX.0.0-yyyymmddhhmmss-rev`,
    /// `vX.Y.Z-pre.0.yyyymmddhhmmss-rev` or `vX.Y.Z-0.yyyymmddhhmmss-rev`.
    pub fn is_pseudo(&self) -> bool {
        let pre = self.semver.pre.as_str();
        let time_rev = |s: &str| -> bool {
            let (time, rev) = match s.split_once('-') {
                Some(parts) => parts,
                None => return false,
            };
            time.len() == 14
                && time.bytes().all(|b| b.is_ascii_digit())
                && !rev.is_empty()
                && rev.bytes().all(|b| b.is_ascii_alphanumeric())
        };
        if self.semver.minor == 0 && self.semver.patch == 0 && time_rev(pre) {
            return true;
        }
        if let Some(at) = pre.rfind("0.") {
            let before_ok = at == 0 || pre.as_bytes()[at - 1] == b'.';
            // The last "0." must start the timestamp identifier: the rest holds no dot.
            let tail = &pre[at + 2..];
            return before_ok && !tail.contains('.') && time_rev(tail);
        }
        false
    }

    /// The commit time a pseudo-version carries, as RFC 3339 (`2020-01-02T03:04:05Z`).
    pub fn pseudo_time(&self) -> Option<String> {
        if !self.is_pseudo() {
            return None;
        }
        let pre = self.semver.pre.as_str();
        let last = pre.rsplit('.').next().unwrap_or(pre);
        let t = last.split('-').next()?;
        Some(format!(
            "{}-{}-{}T{}:{}:{}Z",
            &t[0..4],
            &t[4..6],
            &t[6..8],
            &t[8..10],
            &t[10..12],
            &t[12..14]
        ))
    }

    /// Semver precedence, build metadata ignored (`semver.Compare`).
    pub fn precedence(&self, other: &GoVersion) -> Ordering {
        let a = &self.semver;
        let b = &other.semver;
        (a.major, a.minor, a.patch)
            .cmp(&(b.major, b.minor, b.patch))
            .then_with(|| a.pre.cmp(&b.pre))
    }
}

/// Go's version order; a stored string that is not a version sorts first, by text.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (GoVersion::parse(a), GoVersion::parse(b)) {
        (Ok(x), Ok(y)) => x.precedence(&y).then_with(|| a.cmp(b)),
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// What `@latest` answers among `versions`: the highest release, else the highest
/// pre-release that is not a pseudo-version, else the highest pseudo-version.
pub fn latest<'a>(versions: impl IntoIterator<Item = &'a GoVersion>) -> Option<&'a GoVersion> {
    let mut best: [Option<&GoVersion>; 3] = [None, None, None];
    for v in versions {
        let rank = if v.is_release() {
            0
        } else if v.is_pseudo() {
            2
        } else {
            1
        };
        let slot = &mut best[rank];
        if slot.is_none_or(|b| v.precedence(b) == Ordering::Greater) {
            *slot = Some(v);
        }
    }
    best.into_iter().flatten().next()
}

/// A string that compares equal for paths Go's `strings.EqualFold` takes as equal (for the
/// case-fold collision check inside a module zip).
pub fn fold(s: &str) -> String {
    if !s.bytes().any(|b| b >= 0x80 || b.is_ascii_uppercase()) {
        return s.to_owned();
    }
    // Simple (one-to-one) case folding, as `unicode.SimpleFold`: a character whose upper or
    // lower case is several characters (ß) keeps itself.
    fn single(mut it: impl Iterator<Item = char>, c: char) -> char {
        match (it.next(), it.next()) {
            (Some(x), None) => x,
            _ => c,
        }
    }
    s.chars()
        .map(|c| {
            let upper = single(c.to_uppercase(), c);
            single(upper.to_lowercase(), upper)
        })
        .collect()
}

/// The module path a `go.mod` declares (its `module` directive), if it has one.
pub fn go_mod_module(go_mod: &str) -> Option<String> {
    for line in go_mod.lines() {
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        let line = line.trim();
        let Some(rest) = line.strip_prefix("module") else {
            continue;
        };
        if !rest.starts_with([' ', '\t', '"', '`']) {
            continue;
        }
        let rest = rest.trim();
        if rest == "(" {
            // `module (` block: its one line follows.
            continue;
        }
        let unquoted = if let Some(q) = rest.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            q.to_owned()
        } else if let Some(q) = rest.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
            q.to_owned()
        } else {
            rest.to_owned()
        };
        return Some(unquoted);
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn v(s: &str) -> GoVersion {
        GoVersion::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn module_paths_follow_check_path() {
        for ok in [
            "example.com/a",
            "example.com",
            "github.com/Azure/azure-sdk",
            "example.com/a/v2",
            "gopkg.in/yaml.v3",
            "example.com/a~b_c+d",
        ] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "example/a",
            "Example.com/a",
            "-example.com/a",
            "example.com/a/",
            "example.com//a",
            "example.com/../a",
            "example.com/.a",
            "example.com/a.",
            "example.com/a b",
            "example.com/a/v1",
            "example.com/a/v0",
            "example.com/a/v02",
            "example.com/a/v2.1",
            "example.com/con",
            "example.com/Aux.txt",
            "gopkg.in/yaml",
            "exa\u{0}mple.com/a",
            "example.com/é",
            "/example.com",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            normalize_name("example.com/Foo").unwrap(),
            "example.com/foo"
        );
        assert!(normalize_name("..").is_err());
    }

    #[test]
    fn file_paths_follow_check_file_path() {
        for ok in [
            "go.mod",
            "a/b.go",
            ".gitignore",
            "a/.hidden",
            "Ünïcode/x y.txt",
        ] {
            assert!(check_file_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a//b",
            "../a",
            "a/",
            "a\\b",
            "a:b",
            "a*b",
            "nul",
            "a/COM1.go",
            "a/..",
        ] {
            assert!(check_file_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn case_encoding_round_trips() {
        assert_eq!(escape("github.com/Azure/SDK"), "github.com/!azure/!s!d!k");
        assert_eq!(
            unescape("github.com/!azure/!s!d!k").as_deref(),
            Some("github.com/Azure/SDK")
        );
        assert_eq!(unescape("github.com/Azure"), None);
        assert_eq!(unescape("a!"), None);
        assert_eq!(unescape("a!1"), None);
        assert_eq!(unescape("a!!b"), None);
        assert!(unescape_path("example.com/!a").is_ok());
        assert!(unescape_path("example.com/A").is_err());
    }

    #[test]
    fn versions_must_be_canonical() {
        for ok in [
            "v1.2.3",
            "v0.0.0-20200101000000-abcdefabcdef",
            "v2.0.0+incompatible",
            "v1.0.0-rc.1",
        ] {
            assert!(GoVersion::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "1.2.3",
            "v1.2",
            "v1",
            "v01.2.3",
            "v1.2.3+meta",
            "v1.0.0+incompatible",
            "v1.2.3-01",
            "vx",
            "",
        ] {
            assert!(GoVersion::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pseudo_versions_are_recognised() {
        assert!(v("v0.0.0-20200101000000-abcdefabcdef").is_pseudo());
        assert!(v("v1.2.4-0.20200101000000-abcdefabcdef").is_pseudo());
        assert!(v("v1.2.3-pre.0.20200101000000-abcdefabcdef").is_pseudo());
        assert!(!v("v1.2.3").is_pseudo());
        assert!(!v("v1.2.3-rc.1").is_pseudo());
        assert!(!v("v1.2.0-20200101000000-abcdef").is_pseudo());
        assert!(!v("v1.2.3-pre0.20200101000000-abc").is_pseudo());
        assert_eq!(
            v("v1.2.4-0.20200102030405-abcdefabcdef")
                .pseudo_time()
                .as_deref(),
            Some("2020-01-02T03:04:05Z")
        );
    }

    #[test]
    fn versions_order_as_go_orders_them() {
        let mut list = [
            "v1.10.0",
            "v1.2.0",
            "v1.2.0-rc.1",
            "v1.2.0-0.20200101000000-abcdefabcdef",
            "v0.0.0-20190101000000-abcdefabcdef",
            "v1.2.0-rc.10",
            "v1.2.0-rc.2",
            "v0.9.0",
        ];
        list.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(
            list,
            [
                "v0.0.0-20190101000000-abcdefabcdef",
                "v0.9.0",
                "v1.2.0-0.20200101000000-abcdefabcdef",
                "v1.2.0-rc.1",
                "v1.2.0-rc.2",
                "v1.2.0-rc.10",
                "v1.2.0",
                "v1.10.0",
            ]
        );
    }

    #[test]
    fn latest_prefers_releases_then_prereleases_then_pseudo() {
        let all = [
            v("v1.0.0"),
            v("v1.1.0-rc.1"),
            v("v1.2.0-0.20200101000000-abcdefabcdef"),
        ];
        assert_eq!(latest(&all).unwrap().original, "v1.0.0");
        assert_eq!(latest(&all[1..]).unwrap().original, "v1.1.0-rc.1");
        assert_eq!(
            latest(&all[2..]).unwrap().original,
            "v1.2.0-0.20200101000000-abcdefabcdef"
        );
        assert!(latest(&[]).is_none());
    }

    #[test]
    fn major_version_suffix_matches_the_version() {
        assert!(check_path_major("example.com/a", &v("v1.0.0")).is_ok());
        assert!(check_path_major("example.com/a", &v("v2.0.0")).is_err());
        assert!(check_path_major("example.com/a", &v("v2.0.0+incompatible")).is_ok());
        assert!(check_path_major("example.com/a/v2", &v("v2.1.0")).is_ok());
        assert!(check_path_major("example.com/a/v2", &v("v3.0.0")).is_err());
        assert!(check_path_major("example.com/a/v2", &v("v1.0.0")).is_err());
        assert!(check_path_major("gopkg.in/yaml.v3", &v("v3.0.1")).is_ok());
        assert!(check_path_major("gopkg.in/yaml.v3", &v("v2.0.1")).is_err());
    }

    #[test]
    fn go_mod_module_line() {
        assert_eq!(
            go_mod_module("// c\nmodule example.com/a // x\n\ngo 1.19\n").as_deref(),
            Some("example.com/a")
        );
        assert_eq!(
            go_mod_module("module \"example.com/q\"\n").as_deref(),
            Some("example.com/q")
        );
        assert_eq!(go_mod_module("go 1.19\n"), None);
        assert_eq!(go_mod_module("modules x\n"), None);
    }

    #[test]
    fn folding_catches_case_only_differences() {
        assert_eq!(fold("a/B.go"), fold("A/b.go"));
        assert_ne!(fold("a.go"), fold("b.go"));
        assert_eq!(fold("É/x"), fold("é/X"));
        assert_ne!(fold("Straße"), fold("STRASSE"));
    }
}
