//! NuGet versions.
//!
//! <https://learn.microsoft.com/en-us/nuget/concepts/package-versioning>: `Major.Minor.Patch[.Revision][-Prerelease][+Metadata]`,
//! normalized as NuGet.Client does (`1.0` = `1.0.0`, `1.0.0.0` = `1.0.0`, leading zeros
//! dropped, metadata not part of identity), ordered by SemVer 2.0 (pre-release labels
//! compared case-insensitively, numeric labels numerically).
//!
//! The parser is NuGet.Client's `NuGetVersion.TryParse` made strict where the registry needs
//! it: whitespace anywhere refuses the version (NuGet trims it; a version we store is the one
//! clients compare, so `" 1.0"` is refused rather than silently renamed), and a numeric part
//! is at most `int.MaxValue` as NuGet.Client's `System.Version` allows. Ranges follow
//! <https://learn.microsoft.com/en-us/nuget/concepts/package-versioning#version-ranges>.

use std::cmp::Ordering;

/// Longest version string accepted, in bytes (labels and metadata included).
pub const MAX_VERSION_LEN: usize = 256;

/// Largest numeric part: NuGet.Client keeps them in `System.Version`'s `int`s.
pub const MAX_PART: u64 = i32::MAX as u64;

/// A version NuGet accepts.
#[derive(Debug, Clone)]
pub struct NugetVersion {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub revision: u64,
    /// Pre-release labels, as written (`beta`, `1`), split on `.`.
    pub release: Vec<String>,
    /// Build metadata after `+`, as written.
    pub metadata: Option<String>,
}

/// Why a string is not a NuGet version: a sentence the client prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidVersion(pub String);

/// `s` fit to quote in a message: no control characters, at most 100 characters.
fn quoted(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(100)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().nth(100).is_some() {
        out.push_str("...");
    }
    out
}

/// A dot-separated identifier of a label or of metadata: ASCII letters, digits and `-`.
fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Parses a version as NuGet.Client's `NuGetVersion.TryParse` does (strict: no ranges, no
/// whitespace inside, at most 4 numeric parts).
pub fn parse(s: &str) -> Result<NugetVersion, InvalidVersion> {
    let bad = |why: &str| {
        InvalidVersion(format!(
            "`{}` is not a valid NuGet version: {why}",
            quoted(s)
        ))
    };
    if s.is_empty() {
        return Err(InvalidVersion("the version is empty".into()));
    }
    if s.len() > MAX_VERSION_LEN {
        return Err(bad(&format!(
            "it is longer than {MAX_VERSION_LEN} characters"
        )));
    }
    if s.chars().any(char::is_whitespace) {
        return Err(bad("it contains whitespace"));
    }
    let (rest, metadata) = match s.split_once('+') {
        Some((rest, md)) => {
            if !md.split('.').all(is_identifier) {
                return Err(bad(
                    "build metadata after `+` must be dot-separated identifiers of letters, digits and `-`",
                ));
            }
            (rest, Some(md.to_owned()))
        }
        None => (s, None),
    };
    let (numbers, release) = match rest.split_once('-') {
        Some((numbers, labels)) => {
            if !labels.split('.').all(is_identifier) {
                return Err(bad(
                    "pre-release labels after `-` must be dot-separated identifiers of letters, digits and `-`",
                ));
            }
            (numbers, labels.split('.').map(str::to_owned).collect())
        }
        None => (rest, Vec::new()),
    };
    let mut parts = [0u64; 4];
    for (count, part) in numbers.split('.').enumerate() {
        if count == 4 {
            return Err(bad("it has more than 4 numeric parts"));
        }
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                "it must start with 1 to 4 numbers separated by `.` (like 1.0.0)",
            ));
        }
        let digits = part.trim_start_matches('0');
        let value = if digits.is_empty() {
            0
        } else {
            match digits.parse::<u64>() {
                Ok(v) if v <= MAX_PART => v,
                _ => return Err(bad(&format!("a numeric part is larger than {MAX_PART}"))),
            }
        };
        parts[count] = value;
    }
    let [major, minor, patch, revision] = parts;
    Ok(NugetVersion {
        major,
        minor,
        patch,
        revision,
        release,
        metadata,
    })
}

impl NugetVersion {
    /// The normalized string, without metadata: `1.0.0`, `1.0.0.4`, `1.0.0-Beta.1` (labels keep
    /// their case).
    pub fn normalized(&self) -> String {
        let mut out = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if self.revision != 0 {
            out.push_str(&format!(".{}", self.revision));
        }
        if !self.release.is_empty() {
            out.push('-');
            out.push_str(&self.release.join("."));
        }
        out
    }
    /// [`Self::normalized`] plus `+metadata` when there is some.
    pub fn full(&self) -> String {
        match &self.metadata {
            Some(md) => format!("{}+{md}", self.normalized()),
            None => self.normalized(),
        }
    }
    pub fn is_prerelease(&self) -> bool {
        !self.release.is_empty()
    }
    /// A SemVer 2.0.0 version as NuGet counts them: dotted pre-release labels or metadata.
    pub fn is_semver2(&self) -> bool {
        self.release.len() > 1 || self.metadata.is_some()
    }
}

impl std::fmt::Display for NugetVersion {
    /// The [`NugetVersion::full`] form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.full())
    }
}

/// Two pre-release labels in SemVer 2.0 order as NuGet.Client compares them: numeric labels
/// numerically and before alphanumeric ones, alphanumeric ones ordinally ignoring case.
fn compare_label(a: &str, b: &str) -> Ordering {
    let numeric = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match (numeric(a), numeric(b)) {
        (true, true) => {
            // Arbitrary length: no leading zeros, then the longer is larger.
            let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            a.len().cmp(&b.len()).then_with(|| a.cmp(b))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a
            .bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase())),
    }
}

impl PartialEq for NugetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for NugetVersion {}
impl PartialOrd for NugetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for NugetVersion {
    /// SemVer 2.0 precedence with the 4th part; metadata ignored.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch, self.revision)
            .cmp(&(other.major, other.minor, other.patch, other.revision))
            .then_with(
                || match (self.release.is_empty(), other.release.is_empty()) {
                    (true, true) => Ordering::Equal,
                    // A release sorts after its pre-releases.
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => {
                        for (a, b) in self.release.iter().zip(&other.release) {
                            let o = compare_label(a, b);
                            if o != Ordering::Equal {
                                return o;
                            }
                        }
                        self.release.len().cmp(&other.release.len())
                    }
                },
            )
    }
}

/// Two version strings in NuGet's order; a string that does not parse sorts before every
/// version, then by text.
pub fn compare(a: &str, b: &str) -> Ordering {
    match (parse(a), parse(b)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// A parsed dependency version range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange {
    pub min: Option<NugetVersion>,
    pub min_inclusive: bool,
    pub max: Option<NugetVersion>,
    pub max_inclusive: bool,
}

impl VersionRange {
    /// NuGet's normalized form: `[1.0.0, )`, `(, 2.0.0]`, `[1.0.0, 2.0.0)`, `[1.0.0]`.
    pub fn normalized(&self) -> String {
        if let (Some(min), Some(max)) = (&self.min, &self.max) {
            if self.min_inclusive && self.max_inclusive && min == max {
                return format!("[{}]", min.normalized());
            }
        }
        let bound =
            |v: &Option<NugetVersion>| v.as_ref().map(NugetVersion::normalized).unwrap_or_default();
        format!(
            "{}{}, {}{}",
            if self.min_inclusive { '[' } else { '(' },
            bound(&self.min),
            bound(&self.max),
            if self.max_inclusive { ']' } else { ')' },
        )
    }

    /// Whether `v` is inside the range.
    pub fn contains(&self, v: &NugetVersion) -> bool {
        let above = match &self.min {
            Some(min) if self.min_inclusive => v >= min,
            Some(min) => v > min,
            None => true,
        };
        let below = match &self.max {
            Some(max) if self.max_inclusive => v <= max,
            Some(max) => v < max,
            None => true,
        };
        above && below
    }
}

/// Parses a dependency range as NuGet.Client's `VersionRange.TryParse` does, without
/// floating versions (`1.0.*`, which a `.nuspec` does not carry): a bare version is a
/// minimum (`1.0` = `>= 1.0`), `[1.0]` exactly one version, and `[`/`(`, `]`/`)` bound an
/// interval whose either side may be empty (not both).
pub fn parse_range(range: &str) -> Option<VersionRange> {
    let s = range.trim();
    if s.is_empty() || s.len() > 2 * MAX_VERSION_LEN + 8 {
        return None;
    }
    let first = s.as_bytes()[0];
    if first != b'[' && first != b'(' {
        let min = parse(s).ok()?;
        return Some(VersionRange {
            min: Some(min),
            min_inclusive: true,
            max: None,
            max_inclusive: false,
        });
    }
    let min_inclusive = first == b'[';
    let max_inclusive = match s.as_bytes().get(s.len() - 1) {
        Some(b']') => true,
        Some(b')') => false,
        _ => return None,
    };
    if s.len() < 3 {
        return None;
    }
    let inner = &s[1..s.len() - 1];
    let optional = |t: &str| -> Option<Option<NugetVersion>> {
        let t = t.trim();
        if t.is_empty() {
            Some(None)
        } else {
            parse(t).ok().map(Some)
        }
    };
    let (min, max) = match inner.split_once(',') {
        None => {
            // `[1.0]`: exactly that version; `(1.0)` means nothing.
            if !(min_inclusive && max_inclusive) {
                return None;
            }
            let v = parse(inner.trim()).ok()?;
            (Some(v.clone()), Some(v))
        }
        Some((lo, hi)) => {
            let (min, max) = (optional(lo)?, optional(hi)?);
            if min.is_none() && max.is_none() {
                return None;
            }
            (min, max)
        }
    };
    if let (Some(lo), Some(hi)) = (&min, &max) {
        match lo.cmp(hi) {
            Ordering::Greater => return None,
            Ordering::Equal if !(min_inclusive && max_inclusive) => return None,
            _ => {}
        }
    }
    Some(VersionRange {
        min,
        min_inclusive,
        max,
        max_inclusive,
    })
}

/// A dependency's version range as the registration's `range` field writes it
/// (`1.0` = `[1.0.0, )`, `[1.0,2.0)` = `[1.0.0, 2.0.0)`); a range that does not parse is
/// returned as written.
pub fn normalize_range(range: &str) -> String {
    match parse_range(range) {
        Some(r) => r.normalized(),
        None => range.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use Ordering::{Equal, Greater, Less};

    #[test]
    fn accepted_versions_normalize_as_nuget_does() {
        for (input, normalized, full) in [
            ("1", "1.0.0", "1.0.0"),
            ("1.0", "1.0.0", "1.0.0"),
            ("1.0.0", "1.0.0", "1.0.0"),
            ("1.0.0.0", "1.0.0", "1.0.0"),
            ("1.2.3.4", "1.2.3.4", "1.2.3.4"),
            ("01.0.0", "1.0.0", "1.0.0"),
            ("1.00.007", "1.0.7", "1.0.7"),
            ("1.0.0-beta", "1.0.0-beta", "1.0.0-beta"),
            ("1.0.0-Beta.1", "1.0.0-Beta.1", "1.0.0-Beta.1"),
            (
                "1.0.0-beta.1+sha.abc",
                "1.0.0-beta.1",
                "1.0.0-beta.1+sha.abc",
            ),
            ("1.0.0.1-rc", "1.0.0.1-rc", "1.0.0.1-rc"),
            ("1.0.0.0-rc", "1.0.0-rc", "1.0.0-rc"),
            ("1.0+build", "1.0.0", "1.0.0+build"),
            (
                "1.0.0-pre-release--x",
                "1.0.0-pre-release--x",
                "1.0.0-pre-release--x",
            ),
            ("2147483647.0", "2147483647.0.0", "2147483647.0.0"),
        ] {
            let v = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(v.normalized(), normalized, "{input}");
            assert_eq!(v.full(), full, "{input}");
            assert_eq!(v.to_string(), full, "{input}");
        }
    }

    #[test]
    fn parts_labels_and_metadata_are_kept() {
        let v = parse("1.2.3.4-Beta.10+Git.abc").unwrap();
        assert_eq!((v.major, v.minor, v.patch, v.revision), (1, 2, 3, 4));
        assert_eq!(v.release, ["Beta", "10"]);
        assert_eq!(v.metadata.as_deref(), Some("Git.abc"));
        assert!(v.is_prerelease() && v.is_semver2());
        let v = parse("1.0.0-beta").unwrap();
        assert!(v.is_prerelease() && !v.is_semver2());
        assert!(parse("1.0.0+m").unwrap().is_semver2());
        assert!(!parse("1.0.0").unwrap().is_prerelease());
    }

    #[test]
    fn malformed_versions_are_refused_with_the_reason() {
        for (input, reason) in [
            ("", "empty"),
            ("v1.0", "1 to 4 numbers"),
            ("1.a", "1 to 4 numbers"),
            ("1..0", "1 to 4 numbers"),
            ("1.0.", "1 to 4 numbers"),
            (".1", "1 to 4 numbers"),
            ("-beta", "1 to 4 numbers"),
            ("+m", "1 to 4 numbers"),
            ("1.0.0.0.0", "more than 4 numeric parts"),
            ("1.0.0-", "pre-release labels"),
            ("1.0.0-beta..1", "pre-release labels"),
            ("1.0.0-beta.", "pre-release labels"),
            ("1.0.0-be_ta", "pre-release labels"),
            ("1.0.0-béta", "pre-release labels"),
            ("1.0.0+", "build metadata"),
            ("1.0.0+a+b", "build metadata"),
            ("1.0.0+a..b", "build metadata"),
            ("1.0.0 ", "whitespace"),
            (" 1.0.0", "whitespace"),
            ("1.0 .0", "whitespace"),
            ("1.0.0-beta\t", "whitespace"),
            ("[1.0]", "1 to 4 numbers"),
            ("1.0-*", "pre-release labels"),
            ("2147483648.0", "larger than 2147483647"),
            ("99999999999999999999999.0", "larger than 2147483647"),
        ] {
            let e = parse(input).unwrap_err();
            assert!(e.0.contains(reason), "{input:?}: {e}");
        }
        let long = format!("1.0.0-{}", "a".repeat(MAX_VERSION_LEN));
        assert!(parse(&long).unwrap_err().0.contains("longer than 256"));
        // The quoted input stays short and printable.
        let e = parse(&format!("x{}\u{7}", "y".repeat(200))).unwrap_err();
        assert!(e.0.len() < 300 && !e.0.contains('\u{7}'), "{e}");
    }

    /// Pairs of versions and their order (`<`, `=` or `>`), one `a<TAB>b<TAB>order` a line,
    /// written from NuGet's documented rules: the examples of the versioning page (legacy 4-part
    /// versions, SemVer 2.0.0 pre-release precedence, case-insensitive labels, metadata
    /// ignored) and the cases where NuGet differs from a naive string order.
    const ORDER: &str = include_str!("../tests/fixtures/version-order.tsv");

    fn order_pairs() -> Vec<(&'static str, &'static str, Ordering)> {
        ORDER
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                assert_eq!(f.len(), 3, "{l:?}");
                let o = match f[2] {
                    "<" => Less,
                    "=" => Equal,
                    ">" => Greater,
                    other => panic!("order {other:?} in {l:?}"),
                };
                (f[0], f[1], o)
            })
            .collect()
    }

    #[test]
    fn versions_order_as_the_fixture_says() {
        let pairs = order_pairs();
        assert!(pairs.len() >= 50, "only {} pairs", pairs.len());
        for (a, b, want) in pairs {
            assert!(parse(a).is_ok() && parse(b).is_ok(), "{a} / {b} must parse");
            assert_eq!(compare(a, b), want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn an_ordered_list_sorts_back_into_place() {
        let list = [
            "0.9",
            "1.0.0-0",
            "1.0.0-1",
            "1.0.0-2",
            "1.0.0-10",
            "1.0.0-Alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.0.1-a",
            "1.0.0.1",
            "1.0.1",
            "1.1",
            "1.10",
            "2.0.0-rc",
            "2.0.0",
            "10.0.0",
        ];
        let mut shuffled = list.to_vec();
        shuffled.reverse();
        shuffled.swap(3, 11);
        shuffled.sort_by(|a, b| compare(a, b));
        assert_eq!(shuffled, list);
    }

    #[test]
    fn unparsable_strings_sort_first_then_by_text() {
        assert_eq!(compare("not-a-version", "0.0.0-0"), Less);
        assert_eq!(compare("1.0.0", "abc"), Greater);
        assert_eq!(compare("abc", "abd"), Less);
        assert_eq!(compare("abc", "abc"), Equal);
    }

    #[test]
    fn ranges_normalize_as_the_registration_writes_them() {
        for (input, want) in [
            ("1.0", "[1.0.0, )"),
            ("1.0.0-beta+m", "[1.0.0-beta, )"),
            ("[1.0]", "[1.0.0]"),
            ("[1.0, 1.0.0]", "[1.0.0]"),
            ("(,1.0]", "(, 1.0.0]"),
            ("(,1.0)", "(, 1.0.0)"),
            ("[1.0,2.0)", "[1.0.0, 2.0.0)"),
            ("[1.0,2.0]", "[1.0.0, 2.0.0]"),
            ("(1.0,2.0)", "(1.0.0, 2.0.0)"),
            ("(1.0,)", "(1.0.0, )"),
            ("[1.0,)", "[1.0.0, )"),
            (" [ 1.0 , 2.0.0.0 ) ", "[1.0.0, 2.0.0)"),
            ("[1.0.0.1-Beta, 2)", "[1.0.0.1-Beta, 2.0.0)"),
        ] {
            assert_eq!(normalize_range(input), want, "{input:?}");
        }
    }

    #[test]
    fn ranges_that_do_not_parse_are_kept_as_written() {
        for input in [
            "",
            "  ",
            "(1.0)",
            "(1.0]",
            "[1.0)",
            "[,]",
            "(,)",
            "[2.0,1.0]",
            "(1.0,1.0)",
            "[1.0,1.0)",
            "[1.0",
            "1.0]",
            "[a,2.0]",
            "[1.0,2.0,3.0]",
            "1.0.*",
            "[",
            "(",
            "()",
            "[]",
        ] {
            assert_eq!(normalize_range(input), input, "{input:?}");
            assert!(parse_range(input).is_none(), "{input:?}");
        }
    }

    #[test]
    fn a_range_contains_what_its_bounds_say() {
        let r = parse_range("[1.0,2.0)").unwrap();
        assert!(r.contains(&parse("1.0").unwrap()));
        assert!(r.contains(&parse("1.9.9").unwrap()));
        assert!(r.contains(&parse("2.0.0-beta").unwrap()));
        assert!(!r.contains(&parse("2.0").unwrap()));
        assert!(!r.contains(&parse("1.0.0-rc").unwrap()));
        let r = parse_range("1.0").unwrap();
        assert!(r.contains(&parse("99.0").unwrap()));
        assert!(!r.contains(&parse("0.9").unwrap()));
    }

    const PIECES: &[&str] = &[
        "0", "1", "2", "10", "01", ".", ".", "-", "-", "+", "a", "A", "beta", "Beta", "rc", "x-y",
        "9", "00",
    ];

    fn version() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), 0..10).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn the_order_is_total_and_consistent(a in version(), b in version(), c in version()) {
            prop_assert_eq!(compare(&a, &a), Equal);
            prop_assert_eq!(compare(&a, &b), compare(&b, &a).reverse());
            let (ab, bc, ac) = (compare(&a, &b), compare(&b, &c), compare(&a, &c));
            if ab != Greater && bc != Greater {
                prop_assert_ne!(ac, Greater, "{} <= {} <= {} but {} > {}", a, b, c, a, c);
            }
            if ab == Equal && bc == Equal {
                prop_assert_eq!(ac, Equal);
            }
        }

        #[test]
        fn a_normalized_version_parses_back_to_itself(a in version()) {
            if let Ok(v) = parse(&a) {
                let n = v.normalized();
                let again = parse(&n).unwrap();
                prop_assert_eq!(&again.normalized(), &n);
                prop_assert_eq!(again.cmp(&v), Equal);
                prop_assert_eq!(parse(&v.full()).unwrap().full(), v.full());
            }
        }

        #[test]
        fn any_text_parses_or_is_refused_without_panic(a in any::<String>(), b in any::<String>()) {
            prop_assert_eq!(compare(&a, &b), compare(&b, &a).reverse());
            let _ = normalize_range(&a);
        }
    }
}
