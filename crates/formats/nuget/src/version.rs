//! NuGet versions (owned by the nugetparse task; this is the agreed API, stubbed).
//!
//! <https://learn.microsoft.com/en-us/nuget/concepts/package-versioning>: `Major.Minor.Patch[.Revision][-Prerelease][+Metadata]`,
//! normalized as NuGet.Client does (`1.0` = `1.0.0`, `1.0.0.0` = `1.0.0`, leading zeros
//! dropped, metadata not part of identity), ordered by SemVer 2.0 (pre-release labels
//! compared case-insensitively, numeric labels numerically).

use std::cmp::Ordering;

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

/// Parses a version as NuGet.Client's `NuGetVersion.TryParse` does (strict: no ranges, no
/// whitespace inside, at most 4 numeric parts).
pub fn parse(s: &str) -> Result<NugetVersion, InvalidVersion> {
    let _ = s;
    Err(InvalidVersion("version parsing is not written yet".into()))
}

impl NugetVersion {
    /// The normalized string, without metadata: `1.0.0`, `1.0.0.4`, `1.0.0-Beta.1` (labels keep
    /// their case).
    pub fn normalized(&self) -> String {
        String::new()
    }
    /// [`Self::normalized`] plus `+metadata` when there is some.
    pub fn full(&self) -> String {
        String::new()
    }
    pub fn is_prerelease(&self) -> bool {
        !self.release.is_empty()
    }
    /// A SemVer 2.0.0 version as NuGet counts them: dotted pre-release labels or metadata.
    pub fn is_semver2(&self) -> bool {
        self.release.len() > 1 || self.metadata.is_some()
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
        (self.major, self.minor, self.patch, self.revision).cmp(&(
            other.major,
            other.minor,
            other.patch,
            other.revision,
        ))
    }
}

/// Two version strings in NuGet's order; a string that does not parse sorts before every
/// version, then by text.
pub fn compare(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}

/// A dependency's version range as the registration's `range` field writes it
/// (`1.0` = `[1.0.0, )`, `[1.0,2.0)` = `[1.0.0, 2.0.0)`); a range that does not parse is
/// returned as written.
pub fn normalize_range(range: &str) -> String {
    range.to_owned()
}
