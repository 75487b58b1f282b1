//! The in-memory index of one package id over the projects a request reads: every
//! version with its manifest and newest `.nupkg`, in NuGet's version order.
//!
//! Every v3 and v2 document of a package (flat container, registration, search results,
//! OData entries) is rendered from it. It is built from two indexed queries and cached in
//! a core `DerivedCache` under the revisions of the id in those projects, so a publish or
//! delete by any process gives a new key; an id never published has no revisions and
//! costs no query beyond them.

use std::sync::Arc;

use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};

use packyard_core::documents::{DerivedCache, Weighed};
use packyard_core::model::{Package, PackageFile, PackageId, PackageStatus, ProjectId, Revision};
use packyard_core::{ApiError, Registry};

use crate::nuspec::Nuspec;
use crate::version::{self, NugetVersion};
use crate::FORMAT;

/// What a package row keeps in its `metadata` column.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredMetadata {
    /// The normalized version with its labels' case (`1.0.0-Beta`), without metadata.
    pub version: String,
    /// The normalized version with its build metadata (`1.0.0-Beta+abc`).
    pub full_version: String,
    pub nuspec: Nuspec,
    /// The manifest as it was in the package.
    pub nuspec_xml: String,
}

/// The file kinds a package version holds.
pub const NUPKG: &str = ".nupkg";
pub const SNUPKG: &str = ".snupkg";

/// One version of the package.
#[derive(Debug)]
pub struct VersionEntry {
    pub package: Package,
    pub version: NugetVersion,
    pub meta: StoredMetadata,
    /// Listed in search and "latest" (a hidden package is unlisted but still restorable).
    pub listed: bool,
    /// The newest `.nupkg` of this version.
    pub nupkg: PackageFile,
    /// Every other file of this version (symbol packages, symbol files), newest first.
    pub others: Vec<PackageFile>,
}

impl VersionEntry {
    /// The lower-cased normalized version, as flat-container paths spell it.
    pub fn lower(&self) -> String {
        self.meta.version.to_ascii_lowercase()
    }
    /// The `.nupkg` file name of the flat container: `{id}.{version}.nupkg`, lower case.
    pub fn nupkg_name(&self, lower_id: &str) -> String {
        format!("{lower_id}.{}.nupkg", self.lower())
    }
    /// The size in bytes of the `.nupkg`.
    pub fn size(&self) -> u64 {
        u64::try_from(self.nupkg.size).unwrap_or(0)
    }
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct PackageIndex {
    /// The id as its newest publish spelled it.
    pub id: String,
    pub lower_id: String,
    /// Ascending in NuGet's order; one entry per version (the newest publish when several
    /// projects hold it).
    pub versions: Vec<VersionEntry>,
    weight: u64,
}

impl Weighed for PackageIndex {
    fn weight(&self) -> u64 {
        self.weight
    }
}

impl PackageIndex {
    /// The index of `packages` (every version of one id, any projects) and their files.
    /// A row whose metadata is not ours, or with no `.nupkg`, is left out.
    pub fn build(lower_id: &str, packages: Vec<Package>, files: Vec<PackageFile>) -> Self {
        let mut by_package: std::collections::HashMap<PackageId, Vec<PackageFile>> =
            std::collections::HashMap::new();
        for f in files {
            by_package.entry(f.package_id).or_default().push(f);
        }
        let mut versions: Vec<VersionEntry> = Vec::new();
        let mut weight = 256u64;
        let mut newest: Option<(packyard_core::model::Millis, String)> = None;
        for package in packages {
            if !package.status.downloadable() {
                continue;
            }
            let mut files = by_package.remove(&package.id).unwrap_or_default();
            files.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.0.cmp(&a.id.0)));
            let Some(at) = files.iter().position(|f| f.file_name.ends_with(NUPKG)) else {
                continue;
            };
            let nupkg = files.remove(at);
            // The newest push's manifest (a file's metadata), else the package's.
            let Some(meta) = [&nupkg.metadata, &package.metadata]
                .into_iter()
                .find_map(|m| serde_json::from_value::<StoredMetadata>(m.clone()).ok())
            else {
                continue;
            };
            let Ok(parsed) = version::parse(&meta.full_version) else {
                continue;
            };
            if newest
                .as_ref()
                .is_none_or(|(t, _)| package.created_at >= *t)
            {
                newest = Some((package.created_at, package.name.clone()));
            }
            weight += 512 + (meta.nuspec_xml.len() as u64) * 3;
            let listed = package.status == PackageStatus::Default;
            versions.push(VersionEntry {
                package,
                version: parsed,
                meta,
                listed,
                nupkg,
                others: files,
            });
        }
        // Ascending versions; of two projects holding one version, the newest publish wins.
        versions.sort_by(|a, b| {
            a.version
                .cmp(&b.version)
                .then(a.package.created_at.cmp(&b.package.created_at))
        });
        let mut deduped: Vec<VersionEntry> = Vec::with_capacity(versions.len());
        for v in versions {
            if deduped.last().is_some_and(|last| last.version == v.version) {
                deduped.pop();
            }
            deduped.push(v);
        }
        PackageIndex {
            id: newest
                .map(|(_, n)| n)
                .unwrap_or_else(|| lower_id.to_owned()),
            lower_id: lower_id.to_owned(),
            versions: deduped,
            weight,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// The version equal to `version` in NuGet's sense (`1.0` finds `1.0.0`, case of
    /// labels and metadata ignored).
    pub fn find(&self, version: &str) -> Option<&VersionEntry> {
        let wanted = version::parse(version).ok()?;
        self.versions.iter().find(|v| v.version == wanted)
    }

    /// The newest listed version, stable only unless `prerelease`.
    pub fn latest(&self, prerelease: bool) -> Option<&VersionEntry> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.listed && (prerelease || !v.version.is_prerelease()))
    }

    /// The listed versions a search shows: stable only unless `prerelease`, SemVer 2.0
    /// versions only when the client says it understands them.
    pub fn visible(&self, prerelease: bool, semver2: bool) -> impl Iterator<Item = &VersionEntry> {
        self.versions.iter().filter(move |v| {
            v.listed
                && (prerelease || !v.version.is_prerelease())
                && (semver2 || !v.version.is_semver2())
        })
    }
}

/// The id lower-cased: how NuGet compares ids, and the catalog's normalized name.
pub fn lower_id(id: &str) -> String {
    id.to_ascii_lowercase()
}

/// The ids joined, sorted: part of a cache key.
pub fn ids_key(projects: &[ProjectId]) -> String {
    let mut ids: Vec<i64> = projects.iter().map(|p| p.0).collect();
    ids.sort_unstable();
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// An index and the revisions it was built from (the key of every document rendered from
/// it in `Registry::documents()`).
pub struct Loaded {
    pub index: Arc<PackageIndex>,
    pub revisions: Vec<Revision>,
}

/// The index of `lower_id` over `projects` (read-authorized by the caller), from the cache
/// when its revisions have not moved.
pub async fn load(
    registry: &Registry,
    cache: &DerivedCache<PackageIndex>,
    req: &HttpRequest,
    projects: &[ProjectId],
    lower_id: &str,
) -> Result<Loaded, ApiError> {
    let empty = || Loaded {
        index: Arc::new(PackageIndex::default()),
        revisions: Vec::new(),
    };
    if projects.is_empty() || lower_id.is_empty() {
        return Ok(empty());
    }
    let revisions = registry
        .package_revisions_at(
            registry.request_stamp(req),
            projects,
            FORMAT.0,
            Some(lower_id),
        )
        .await?;
    if revisions.is_empty() {
        return Ok(empty());
    }
    let key = format!("nuget/package/{}/{lower_id}", ids_key(projects));
    let index = cache
        .get_or_build(&key, &revisions, |_| async {
            let reads = registry.packages();
            let packages = match projects {
                [one] => reads.packages_by_name(*one, FORMAT.0, lower_id).await?,
                many => reads.packages_by_name_in(many, FORMAT.0, lower_id).await?,
            };
            let ids: Vec<_> = packages.iter().map(|p| p.id).collect();
            let files = reads.package_files_of(&ids).await?;
            Ok(PackageIndex::build(lower_id, packages, files))
        })
        .await?;
    Ok(Loaded { index, revisions })
}

/// The lower-cased ids of the format's packages in `projects` whose id contains `text`
/// (lower case; empty matches all), sorted, each once.
pub async fn matching_ids(
    registry: &Registry,
    projects: &[ProjectId],
    text: &str,
) -> Result<Vec<String>, ApiError> {
    if projects.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<String> = registry
        .packages()
        .package_names(projects, FORMAT.0)
        .await?
        .into_iter()
        .map(|n| n.normalized_name)
        .filter(|n| text.is_empty() || n.contains(text))
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}
