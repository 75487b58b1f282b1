//! A NuGet v3 restore client for the e2e suite, written from the protocol documentation
//! (<https://learn.microsoft.com/en-us/nuget/api/overview>), because this machine kind has
//! no `dotnet`. It does what NuGet.Client does for `dotnet restore` and `dotnet package search`:
//!
//! 1. GET the service index and pick resources by `@type`
//!    (<https://learn.microsoft.com/en-us/nuget/api/service-index>):
//!    `RegistrationsBaseUrl/3.6.0` (the SemVer 2.0.0 registrations), `PackageBaseAddress/3.0.0`
//!    (the flat container) and `SearchQueryService` (newest variant offered).
//! 2. GET `{RegistrationsBaseUrl}{lower id}/index.json` and walk `items[]`; a page without
//!    `items` is fetched from its `@id` (paged registrations,
//!    <https://learn.microsoft.com/en-us/nuget/api/registration-base-url-resource>).
//! 3. Pick a version of the listed `catalogEntry`s for a version range, as NuGet does: the
//!    lowest applicable version for a range, the highest for a floating range (`*`, `1.*`);
//!    prereleases only when asked (or when the range names one).
//! 4. Resolve `dependencyGroups` transitively (nearest wins, as NuGet's resolver does).
//! 5. Check that the flat container's `{lower id}/index.json` lists the version, download
//!    `{lower id}/{lower version}/{lower id}.{lower version}.nupkg`
//!    (<https://learn.microsoft.com/en-us/nuget/api/package-base-address-resource>), and check
//!    its SHA-512 against `catalogEntry.packageHash` when the server gives one. The package is
//!    written as NuGet's global packages folder holds it: `{lower id}/{lower version}/` with
//!    the `.nupkg` and its `.nupkg.sha512` (base64).
//!
//! Search (<https://learn.microsoft.com/en-us/nuget/api/search-query-service-resource>):
//! `q`, `skip`, `take`, `prerelease`, `semVerLevel=2.0.0`.
//!
//! HTTP goes through the `curl` CLI, as the rest of the harness does. Credentials are sent
//! the way NuGet.Client sends them: only after a `401` with a `WWW-Authenticate: Basic`
//! challenge (`curl --anyauth`), so a server that forgets the challenge fails the restore.

use std::cmp::Ordering;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use serde_json::Value;

/// What went wrong in a restore or search; the tests assert on these.
#[derive(Debug)]
pub enum V3Error {
    /// The server answered something other than 200.
    Http {
        url: String,
        status: u16,
        /// The `WWW-Authenticate` header, if any.
        challenge: Option<String>,
        body: String,
    },
    /// The server answered 200 with a document the protocol does not allow, or a package
    /// that fails a check (hash, listing).
    Protocol(String),
    /// No listed version satisfies a range.
    Unresolved {
        id: String,
        range: String,
        available: Vec<String>,
    },
}

impl fmt::Display for V3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            V3Error::Http {
                url,
                status,
                challenge,
                body,
            } => write!(
                f,
                "GET {url}: {status} (WWW-Authenticate: {challenge:?}): {body}"
            ),
            V3Error::Protocol(what) => write!(f, "protocol: {what}"),
            V3Error::Unresolved {
                id,
                range,
                available,
            } => write!(
                f,
                "no version of {id} matches {range} (listed: {available:?})"
            ),
        }
    }
}

type Result<T> = std::result::Result<T, V3Error>;

fn protocol(what: impl Into<String>) -> V3Error {
    V3Error::Protocol(what.into())
}

// ---------------------------------------------------------------------------------------
// Versions and ranges (https://learn.microsoft.com/en-us/nuget/concepts/package-versioning)
// ---------------------------------------------------------------------------------------

/// A NuGet version: SemVer 2.0.0 plus the legacy fourth number. Build metadata is kept for
/// display and ignored in comparisons.
#[derive(Clone, Debug)]
pub struct NuGetVersion {
    numbers: [u64; 4],
    /// Whether the fourth number was written (legacy `1.0.0.1`).
    four_part: bool,
    release: Vec<String>,
    metadata: Option<String>,
}

impl NuGetVersion {
    pub fn parse(text: &str) -> Option<NuGetVersion> {
        let text = text.trim();
        let (rest, metadata) = match text.split_once('+') {
            Some((r, m)) if !m.is_empty() => (r, Some(m.to_string())),
            Some(_) => return None,
            None => (text, None),
        };
        let (core, release) = match rest.split_once('-') {
            Some((c, r)) => {
                let labels: Vec<String> = r.split('.').map(str::to_string).collect();
                if labels.iter().any(|l| {
                    l.is_empty() || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                }) {
                    return None;
                }
                (c, labels)
            }
            None => (rest, Vec::new()),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 4 {
            return None;
        }
        let mut numbers = [0u64; 4];
        for (slot, part) in numbers.iter_mut().zip(&parts) {
            if part.is_empty() || !part.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            *slot = part.parse().ok()?;
        }
        Some(NuGetVersion {
            numbers,
            four_part: parts.len() == 4 && numbers[3] != 0,
            release,
            metadata,
        })
    }

    pub fn is_prerelease(&self) -> bool {
        !self.release.is_empty()
    }

    /// The normalized form NuGet uses in flat-container paths, before lower-casing: three
    /// numbers (four when the fourth is not 0), the release labels, no build metadata.
    pub fn normalized(&self) -> String {
        let [a, b, c, d] = self.numbers;
        let mut s = if self.four_part {
            format!("{a}.{b}.{c}.{d}")
        } else {
            format!("{a}.{b}.{c}")
        };
        if self.is_prerelease() {
            s.push('-');
            s.push_str(&self.release.join("."));
        }
        s
    }

    /// Build metadata, if the version had any (`1.0.0+abc`).
    pub fn metadata(&self) -> Option<&str> {
        self.metadata.as_deref()
    }
}

impl fmt::Display for NuGetVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized())
    }
}

fn compare_labels(a: &str, b: &str) -> Ordering {
    let numeric = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    match (numeric(a), numeric(b)) {
        // Numeric labels compare as numbers; long digit strings by length first.
        (true, true) => {
            let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            a.len().cmp(&b.len()).then_with(|| a.cmp(b))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        // NuGet compares release labels case-insensitively.
        (false, false) => a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()),
    }
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.is_prerelease(), other.is_prerelease()) {
                (false, false) => Ordering::Equal,
                (false, true) => Ordering::Greater,
                (true, false) => Ordering::Less,
                (true, true) => {
                    for (a, b) in self.release.iter().zip(&other.release) {
                        let o = compare_labels(a, b);
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                    self.release.len().cmp(&other.release.len())
                }
            }
        })
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for NuGetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NuGetVersion {}

/// A NuGet version range: `1.0` (at least 1.0), `[1.0]` (exactly), `[1.0,2.0)`, `(,2.0]`,
/// or floating: `*`, `1.*`, `1.2.*` (the highest version with that prefix).
#[derive(Clone, Debug)]
pub struct VersionRange {
    text: String,
    min: Option<(NuGetVersion, bool)>,
    max: Option<(NuGetVersion, bool)>,
    /// `Some(prefix numbers)` for a floating range.
    floating: Option<Vec<u64>>,
}

impl VersionRange {
    pub fn parse(text: &str) -> Option<VersionRange> {
        let t = text.trim();
        let owned = t.to_string();
        if t == "*" || t.ends_with(".*") {
            let prefix = t.trim_end_matches('*').trim_end_matches('.');
            let numbers = if prefix.is_empty() {
                Vec::new()
            } else {
                prefix
                    .split('.')
                    .map(|p| p.parse().ok())
                    .collect::<Option<Vec<u64>>>()?
            };
            if numbers.len() > 3 {
                return None;
            }
            return Some(VersionRange {
                text: owned,
                min: None,
                max: None,
                floating: Some(numbers),
            });
        }
        let first = t.chars().next()?;
        if first != '[' && first != '(' {
            let v = NuGetVersion::parse(t)?;
            return Some(VersionRange {
                text: owned,
                min: Some((v, true)),
                max: None,
                floating: None,
            });
        }
        let last = t.chars().last()?;
        if (last != ']' && last != ')') || t.len() < 2 {
            return None;
        }
        let inner = &t[1..t.len() - 1];
        let (min_inc, max_inc) = (first == '[', last == ']');
        let bound = |s: &str| -> Option<Option<NuGetVersion>> {
            let s = s.trim();
            if s.is_empty() {
                Some(None)
            } else {
                NuGetVersion::parse(s).map(Some)
            }
        };
        let (min, max) = match inner.split_once(',') {
            Some((lo, hi)) => (bound(lo)?, bound(hi)?),
            None => {
                // `[1.0]`: exactly 1.0.
                let v = NuGetVersion::parse(inner)?;
                if !(min_inc && max_inc) {
                    return None;
                }
                (Some(v.clone()), Some(v))
            }
        };
        Some(VersionRange {
            text: owned,
            min: min.map(|v| (v, min_inc)),
            max: max.map(|v| (v, max_inc)),
            floating: None,
        })
    }

    pub fn satisfies(&self, v: &NuGetVersion) -> bool {
        if let Some(prefix) = &self.floating {
            return prefix.iter().zip(&v.numbers).all(|(p, n)| p == n);
        }
        let above = match &self.min {
            None => true,
            Some((min, true)) => v >= min,
            Some((min, false)) => v > min,
        };
        let below = match &self.max {
            None => true,
            Some((max, true)) => v <= max,
            Some((max, false)) => v < max,
        };
        above && below
    }

    /// Whether a bound names a prerelease (NuGet then admits prereleases for this range).
    fn names_prerelease(&self) -> bool {
        self.min
            .iter()
            .chain(&self.max)
            .any(|(v, _)| v.is_prerelease())
    }

    /// The version NuGet picks among `candidates`: the highest for a floating range, the
    /// lowest applicable otherwise.
    pub fn pick<'a>(
        &self,
        candidates: impl IntoIterator<Item = &'a NuGetVersion>,
        prerelease: bool,
    ) -> Option<&'a NuGetVersion> {
        let allow_pre = prerelease || self.names_prerelease();
        let matching = candidates
            .into_iter()
            .filter(|v| allow_pre || !v.is_prerelease())
            .filter(|v| self.satisfies(v));
        if self.floating.is_some() {
            matching.max()
        } else {
            matching.min()
        }
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

// ---------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------

/// The resources of a service index the client uses (absolute URLs, as served).
#[derive(Clone, Debug)]
pub struct ServiceIndex {
    /// `RegistrationsBaseUrl/3.6.0`, ending in `/`.
    pub registrations: String,
    /// `PackageBaseAddress/3.0.0`, ending in `/`.
    pub package_base: String,
    /// The newest `SearchQueryService` variant offered.
    pub search: String,
    /// Every `@type` the index lists, for assertions.
    pub types: Vec<String>,
}

/// One leaf of a registration: its `catalogEntry` fields NuGet.Client reads.
#[derive(Clone, Debug)]
pub struct CatalogEntry {
    pub id: String,
    /// `catalogEntry.version` as served (may carry build metadata).
    pub version_text: String,
    pub version: NuGetVersion,
    pub listed: bool,
    /// `(id, range)` of the dependency groups that apply (no target framework, or `framework`).
    pub dependencies: Vec<(String, String)>,
    /// `catalogEntry.packageHash` when the server gives one (base64 SHA-512).
    pub package_hash: Option<String>,
    /// The leaf's `packageContent` (or the catalog entry's), if any.
    pub package_content: Option<String>,
}

/// A registration walked to the end.
#[derive(Debug)]
pub struct Registration {
    pub entries: Vec<CatalogEntry>,
    /// How many pages the index listed, and how many of them had to be fetched from their
    /// `@id` because the index did not inline them.
    pub pages: usize,
    pub pages_fetched: usize,
}

/// One restored package.
#[derive(Clone, Debug)]
pub struct Restored {
    pub id: String,
    pub version: String,
    /// `{packages}/{lower id}/{lower version}/{lower id}.{lower version}.nupkg`
    pub nupkg: PathBuf,
    /// Base64 SHA-512 of the download.
    pub sha512: String,
    /// Whether the registration gave a `packageHash` that was checked.
    pub hash_checked: bool,
}

/// One hit of a search.
#[derive(Clone, Debug)]
pub struct SearchHit {
    pub id: String,
    pub version: String,
    pub versions: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct SearchResults {
    pub total_hits: u64,
    pub data: Vec<SearchHit>,
}

/// Search parameters (NuGet.Client always sends `semVerLevel=2.0.0`).
#[derive(Clone, Debug, Default)]
pub struct Search<'a> {
    pub q: &'a str,
    pub prerelease: bool,
    pub skip: u64,
    pub take: u64,
}

/// A v3 client on one service index URL (project or group), with optional Basic credentials.
pub struct V3Client {
    index_url: String,
    credentials: Option<(String, String)>,
    /// The target framework whose dependency group applies besides the framework-less one.
    framework: Option<String>,
}

impl V3Client {
    pub fn new(index_url: &str) -> V3Client {
        V3Client {
            index_url: index_url.to_string(),
            credentials: None,
            framework: None,
        }
    }

    /// Sends `user:password` as Basic, after the server's `401` challenge.
    pub fn with_basic(mut self, user: &str, password: &str) -> V3Client {
        self.credentials = Some((user.to_string(), password.to_string()));
        self
    }

    pub fn with_framework(mut self, framework: &str) -> V3Client {
        self.framework = Some(framework.to_string());
        self
    }

    fn get(&self, url: &str) -> Result<Vec<u8>> {
        let mut args: Vec<String> = vec!["-H".into(), "Accept: application/json".into()];
        if let Some((user, password)) = &self.credentials {
            args.push("--anyauth".into());
            args.push("-u".into());
            args.push(format!("{user}:{password}"));
        }
        args.push(url.to_string());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let got = crate::curl(&argv);
        if got.status != 200 {
            return Err(V3Error::Http {
                url: url.to_string(),
                status: got.status,
                challenge: got.header("www-authenticate").map(str::to_string),
                body: got.text(),
            });
        }
        Ok(got.body)
    }

    fn get_json(&self, url: &str) -> Result<Value> {
        let body = self.get(url)?;
        serde_json::from_slice(&body).map_err(|e| protocol(format!("GET {url}: not JSON: {e}")))
    }

    /// The service index, with the three resources a restore and a search need.
    pub fn service_index(&self) -> Result<ServiceIndex> {
        let doc = self.get_json(&self.index_url)?;
        let version = doc["version"].as_str().unwrap_or_default();
        if !version.starts_with("3.") {
            return Err(protocol(format!(
                "service index version is {version:?}, not 3.x"
            )));
        }
        let resources = doc["resources"]
            .as_array()
            .ok_or_else(|| protocol("service index has no resources array"))?;
        let mut by_type: BTreeMap<String, String> = BTreeMap::new();
        let mut types = Vec::new();
        for r in resources {
            let (Some(id), Some(ty)) = (r["@id"].as_str(), r["@type"].as_str()) else {
                return Err(protocol(format!("resource without @id or @type: {r}")));
            };
            types.push(ty.to_string());
            by_type
                .entry(ty.to_string())
                .or_insert_with(|| id.to_string());
        }
        let first = |wanted: &[&str]| wanted.iter().find_map(|t| by_type.get(*t).cloned());
        let slash = |mut u: String| {
            if !u.ends_with('/') {
                u.push('/');
            }
            u
        };
        let registrations = first(&["RegistrationsBaseUrl/3.6.0"])
            .ok_or_else(|| protocol("no RegistrationsBaseUrl/3.6.0 (SemVer 2.0.0) resource"))?;
        let package_base = first(&["PackageBaseAddress/3.0.0"])
            .ok_or_else(|| protocol("no PackageBaseAddress/3.0.0 resource"))?;
        let search = first(&[
            "SearchQueryService/3.5.0",
            "SearchQueryService/3.0.0-rc",
            "SearchQueryService/3.0.0-beta",
            "SearchQueryService",
        ])
        .ok_or_else(|| protocol("no SearchQueryService resource"))?;
        for url in [&registrations, &package_base, &search] {
            if !url.starts_with("http://") && !url.starts_with("https://") {
                return Err(protocol(format!("resource URL {url:?} is not absolute")));
            }
        }
        Ok(ServiceIndex {
            registrations: slash(registrations),
            package_base: slash(package_base),
            search,
            types,
        })
    }

    /// Every catalog entry of `id`'s registration, following pages the index does not inline.
    pub fn registration(&self, index: &ServiceIndex, id: &str) -> Result<Registration> {
        let url = format!("{}{}/index.json", index.registrations, id.to_lowercase());
        let doc = self.get_json(&url)?;
        let pages = doc["items"]
            .as_array()
            .ok_or_else(|| protocol(format!("{url}: registration index has no items")))?;
        let count = doc["count"].as_u64();
        if count.is_some_and(|c| c != pages.len() as u64) {
            return Err(protocol(format!(
                "{url}: count {count:?} but {} pages",
                pages.len()
            )));
        }
        let mut entries = Vec::new();
        let mut fetched = 0;
        for page in pages {
            let leaves = match page["items"].as_array() {
                Some(items) => items.clone(),
                None => {
                    let page_url = page["@id"]
                        .as_str()
                        .ok_or_else(|| protocol(format!("{url}: page without @id or items")))?;
                    fetched += 1;
                    let fetched_page = self.get_json(page_url)?;
                    fetched_page["items"]
                        .as_array()
                        .cloned()
                        .ok_or_else(|| protocol(format!("{page_url}: page has no items")))?
                }
            };
            let lower = page["lower"].as_str().and_then(NuGetVersion::parse);
            let upper = page["upper"].as_str().and_then(NuGetVersion::parse);
            if let Some(c) = page["count"].as_u64() {
                if c != leaves.len() as u64 {
                    return Err(protocol(format!(
                        "{url}: a page says count {c} but holds {} leaves",
                        leaves.len()
                    )));
                }
            }
            for leaf in &leaves {
                let entry = self.catalog_entry(leaf)?;
                // A page's bounds must hold its leaves, or NuGet.Client skips the page.
                let inside = lower.as_ref().is_none_or(|l| &entry.version >= l)
                    && upper.as_ref().is_none_or(|u| &entry.version <= u);
                if !inside {
                    return Err(protocol(format!(
                        "{url}: {} lies outside its page [{:?}, {:?}]",
                        entry.version_text, page["lower"], page["upper"]
                    )));
                }
                entries.push(entry);
            }
        }
        Ok(Registration {
            entries,
            pages: pages.len(),
            pages_fetched: fetched,
        })
    }

    fn catalog_entry(&self, leaf: &Value) -> Result<CatalogEntry> {
        let entry = &leaf["catalogEntry"];
        if !entry.is_object() {
            return Err(protocol(format!(
                "leaf without an inline catalogEntry: {leaf}"
            )));
        }
        let id = entry["id"]
            .as_str()
            .ok_or_else(|| protocol(format!("catalogEntry without id: {entry}")))?
            .to_string();
        let version_text = entry["version"]
            .as_str()
            .ok_or_else(|| protocol(format!("catalogEntry without version: {entry}")))?
            .to_string();
        let version = NuGetVersion::parse(&version_text)
            .ok_or_else(|| protocol(format!("catalogEntry version {version_text:?} invalid")))?;
        let listed = entry["listed"].as_bool().unwrap_or(true);
        let mut dependencies = Vec::new();
        for group in entry["dependencyGroups"].as_array().into_iter().flatten() {
            let framework = group["targetFramework"].as_str().unwrap_or_default();
            let applies = framework.is_empty()
                || self
                    .framework
                    .as_deref()
                    .is_some_and(|f| f.eq_ignore_ascii_case(framework));
            if !applies {
                continue;
            }
            for dep in group["dependencies"].as_array().into_iter().flatten() {
                let dep_id = dep["id"]
                    .as_str()
                    .ok_or_else(|| protocol(format!("dependency without id: {dep}")))?;
                // No range means any version (NuGet reads it as `[0.0.0, )`).
                let range = dep["range"].as_str().unwrap_or("0.0.0");
                dependencies.push((dep_id.to_string(), range.to_string()));
            }
        }
        let package_hash = entry["packageHash"].as_str().map(str::to_string);
        if package_hash.is_some() {
            let algorithm = entry["packageHashAlgorithm"].as_str().unwrap_or("SHA512");
            if !algorithm.eq_ignore_ascii_case("SHA512") {
                return Err(protocol(format!("packageHashAlgorithm {algorithm:?}")));
            }
        }
        let package_content = leaf["packageContent"]
            .as_str()
            .or_else(|| entry["packageContent"].as_str())
            .map(str::to_string);
        Ok(CatalogEntry {
            id,
            version_text,
            version,
            listed,
            dependencies,
            package_hash,
            package_content,
        })
    }

    /// The listed version of `id` NuGet picks for `range`.
    pub fn resolve(
        &self,
        index: &ServiceIndex,
        id: &str,
        range: &str,
        prerelease: bool,
    ) -> Result<CatalogEntry> {
        let parsed = VersionRange::parse(range)
            .ok_or_else(|| protocol(format!("invalid version range {range:?} for {id}")))?;
        let registration = self.registration(index, id)?;
        let listed: Vec<&CatalogEntry> = registration.entries.iter().filter(|e| e.listed).collect();
        let picked = parsed.pick(listed.iter().map(|e| &e.version), prerelease);
        match picked {
            Some(v) => Ok(listed
                .iter()
                .find(|e| &e.version == v)
                .map(|e| (*e).clone())
                .ok_or_else(|| protocol("picked version vanished"))?),
            None => Err(V3Error::Unresolved {
                id: id.to_string(),
                range: range.to_string(),
                available: listed.iter().map(|e| e.version_text.clone()).collect(),
            }),
        }
    }

    /// Restores `roots` (`(id, range)`) and their dependencies into `packages` (NuGet's
    /// global packages folder layout). The first package of an id wins (nearest wins).
    pub fn restore(
        &self,
        roots: &[(&str, &str)],
        prerelease: bool,
        packages: &Path,
    ) -> Result<Vec<Restored>> {
        let index = self.service_index()?;
        let mut queue: VecDeque<(String, String)> = roots
            .iter()
            .map(|(id, range)| (id.to_string(), range.to_string()))
            .collect();
        let mut resolved: BTreeMap<String, CatalogEntry> = BTreeMap::new();
        let mut order = Vec::new();
        while let Some((id, range)) = queue.pop_front() {
            let key = id.to_lowercase();
            if let Some(have) = resolved.get(&key) {
                let parsed = VersionRange::parse(&range)
                    .ok_or_else(|| protocol(format!("invalid range {range:?} for {id}")))?;
                if !parsed.satisfies(&have.version) {
                    return Err(protocol(format!(
                        "{id}: {} already picked, but a dependent needs {range}",
                        have.version_text
                    )));
                }
                continue;
            }
            let entry = self.resolve(&index, &id, &range, prerelease)?;
            for dep in &entry.dependencies {
                queue.push_back(dep.clone());
            }
            order.push(key.clone());
            resolved.insert(key, entry);
        }
        order
            .iter()
            .filter_map(|k| resolved.get(k))
            .map(|entry| self.download(&index, entry, packages))
            .collect()
    }

    /// The versions the flat container lists for `id` (lower-case, normalized).
    pub fn flat_versions(&self, index: &ServiceIndex, id: &str) -> Result<Vec<String>> {
        let url = format!("{}{}/index.json", index.package_base, id.to_lowercase());
        let doc = self.get_json(&url)?;
        let versions = doc["versions"]
            .as_array()
            .ok_or_else(|| protocol(format!("{url}: no versions array")))?;
        versions
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| protocol(format!("{url}: version {v} is not a string")))
            })
            .collect()
    }

    fn download(
        &self,
        index: &ServiceIndex,
        entry: &CatalogEntry,
        packages: &Path,
    ) -> Result<Restored> {
        let id = entry.id.to_lowercase();
        let version = entry.version.normalized().to_lowercase();
        let listed = self.flat_versions(index, &id)?;
        if !listed.contains(&version) {
            return Err(protocol(format!(
                "the flat container does not list {id} {version}: {listed:?}"
            )));
        }
        let url = format!("{}{id}/{version}/{id}.{version}.nupkg", index.package_base);
        let bytes = self.get(&url)?;
        let folder = packages.join(&id).join(&version);
        fs::create_dir_all(&folder).map_err(|e| protocol(format!("mkdir: {e}")))?;
        let nupkg = folder.join(format!("{id}.{version}.nupkg"));
        fs::write(&nupkg, &bytes).map_err(|e| protocol(format!("write nupkg: {e}")))?;
        let sha512 = sha512_base64(&nupkg);
        if let Some(expected) = &entry.package_hash {
            if expected != &sha512 {
                return Err(protocol(format!(
                    "{url}: SHA-512 {sha512} but the registration says {expected}"
                )));
            }
        }
        fs::write(folder.join(format!("{id}.{version}.nupkg.sha512")), &sha512)
            .map_err(|e| protocol(format!("write sha512: {e}")))?;
        Ok(Restored {
            id: entry.id.clone(),
            version: entry.version.normalized(),
            nupkg,
            sha512,
            hash_checked: entry.package_hash.is_some(),
        })
    }

    /// A search through the service index's `SearchQueryService`.
    pub fn search(&self, search: &Search<'_>) -> Result<SearchResults> {
        let index = self.service_index()?;
        let url = format!(
            "{}?q={}&skip={}&take={}&prerelease={}&semVerLevel=2.0.0",
            index.search,
            percent_encode(search.q),
            search.skip,
            search.take,
            search.prerelease
        );
        let doc = self.get_json(&url)?;
        let total_hits = doc["totalHits"]
            .as_u64()
            .ok_or_else(|| protocol(format!("{url}: no totalHits")))?;
        let data = doc["data"]
            .as_array()
            .ok_or_else(|| protocol(format!("{url}: no data array")))?;
        let hits = data
            .iter()
            .map(|hit| {
                let field = |name: &str| {
                    hit[name]
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| protocol(format!("{url}: hit without {name}: {hit}")))
                };
                Ok(SearchHit {
                    id: field("id")?,
                    version: field("version")?,
                    versions: hit["versions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v["version"].as_str().map(str::to_string))
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SearchResults {
            total_hits,
            data: hits,
        })
    }
}

/// Base64 SHA-512 of a file, as NuGet writes `.nupkg.sha512` and `packageHash`.
pub fn sha512_base64(path: &Path) -> String {
    let out = Command::new("sha512sum")
        .arg(path)
        .output()
        .expect("sha512sum must be installed (coreutils)");
    assert!(out.status.success(), "sha512sum {}", path.display());
    let hex = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("sha512sum output")
        .to_string();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digest"))
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> NuGetVersion {
        NuGetVersion::parse(s).unwrap_or_else(|| panic!("{s} parses"))
    }

    #[test]
    fn versions_order_as_nuget_orders_them() {
        let ordered = [
            "0.9.9",
            "1.0.0-alpha",
            "1.0.0-alpha.2",
            "1.0.0-alpha.10",
            "1.0.0-Alpha.beta",
            "1.0.0-beta",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.0.1",
            "1.0.1",
            "1.10.0",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.0"), v("1.0.0"));
        assert_eq!(v("1.0.0+build.5"), v("1.0.0"));
        assert_eq!(v("1.0.0-RC.1"), v("1.0.0-rc.1"));
        assert_eq!(v("1.0.0.0").normalized(), "1.0.0");
        assert_eq!(v("1.2.3.4").normalized(), "1.2.3.4");
        assert_eq!(v("01.2").normalized(), "1.2.0");
        assert_eq!(v("2.0.0-Beta.1+sha.abc").normalized(), "2.0.0-Beta.1");
        for bad in [
            "",
            "1.",
            "a.b",
            "1.0.0-",
            "1.0.0+",
            "1.2.3.4.5",
            "1.0-be ta",
        ] {
            assert!(NuGetVersion::parse(bad).is_none(), "{bad:?} must not parse");
        }
    }

    #[test]
    fn ranges_pick_the_lowest_applicable_and_floating_ranges_the_highest() {
        let all: Vec<NuGetVersion> = ["1.0.0", "1.1.0", "1.2.0-beta", "2.0.0", "2.1.0-rc.1"]
            .iter()
            .map(|s| v(s))
            .collect();
        let pick = |range: &str, pre: bool| {
            VersionRange::parse(range)
                .unwrap_or_else(|| panic!("{range} parses"))
                .pick(&all, pre)
                .map(|v| v.normalized())
        };
        assert_eq!(pick("1.0", false).as_deref(), Some("1.0.0"));
        assert_eq!(pick("1.0.5", false).as_deref(), Some("1.1.0"));
        assert_eq!(pick("[1.1.0]", false).as_deref(), Some("1.1.0"));
        assert_eq!(pick("(1.0.0,2.0.0)", false).as_deref(), Some("1.1.0"));
        assert_eq!(pick("(1.1.0,2.0.0)", false), None);
        assert_eq!(pick("(1.1.0,2.0.0)", true).as_deref(), Some("1.2.0-beta"));
        assert_eq!(pick("(,1.0.0]", false).as_deref(), Some("1.0.0"));
        assert_eq!(pick("*", false).as_deref(), Some("2.0.0"));
        assert_eq!(pick("*", true).as_deref(), Some("2.1.0-rc.1"));
        assert_eq!(pick("1.*", false).as_deref(), Some("1.1.0"));
        assert_eq!(pick("[2.1.0-rc.1,)", false).as_deref(), Some("2.1.0-rc.1"));
        for bad in ["", "[1.0", "(1.0)", "[a,b]", "1.x", "1.2.3.4.*"] {
            assert!(VersionRange::parse(bad).is_none(), "{bad:?} must not parse");
        }
    }

    #[test]
    fn search_terms_are_percent_encoded() {
        assert_eq!(
            percent_encode("Packyard Greeting&x=1"),
            "Packyard%20Greeting%26x%3D1"
        );
    }
}
