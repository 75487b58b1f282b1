//! The in-memory index of one artifact (`groupId:artifactId`) over the projects a request
//! reads: every version's newest files, and the derived `maven-metadata.xml` documents
//! with their checksums.
//!
//! Maven asks a registry for many files of an artifact (jar, pom, their checksums, the
//! metadata) and for many artifacts the registry does not have. One index answers all of
//! these. It is built from two indexed queries and cached in a core `DerivedCache` under
//! the revisions of the artifact's name in those projects, so any publish or delete by any
//! process gives a new key, and a miss (a name with no revisions) is cached as cheaply as
//! a hit.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use packyard_core::documents::{Document, Weighed};
use packyard_core::model::{Package, PackageFile, PackageId};
use packyard_core::ApiError;

use crate::layout::{self, Build, Checksum, VersionFile};
use crate::version;
use crate::views::{self, SnapshotVersion};

/// The content type of the metadata documents.
pub const XML: &str = "application/xml";
/// The content type of a checksum file.
pub const CHECKSUM: &str = "text/plain; charset=utf-8";

/// A derived document and its four checksum files.
#[derive(Debug)]
pub struct Docs {
    pub xml: Arc<Document>,
    sums: [Arc<Document>; 4],
}

impl Docs {
    fn of(body: String) -> Result<Docs, ApiError> {
        let bytes = body.as_bytes();
        let hexes = [
            hex::encode(Md5::digest(bytes)),
            hex::encode(Sha1::digest(bytes)),
            hex::encode(Sha256::digest(bytes)),
            hex::encode(Sha512::digest(bytes)),
        ];
        let [a, b, c, d] = hexes.map(|h| Document::of_bytes(Bytes::from(h), CHECKSUM));
        Ok(Docs {
            sums: [Arc::new(a?), Arc::new(b?), Arc::new(c?), Arc::new(d?)],
            xml: Arc::new(Document::of_bytes(Bytes::from(body), XML)?),
        })
    }

    /// The document itself, or one of its checksum files.
    pub fn get(&self, checksum: Option<Checksum>) -> &Arc<Document> {
        match checksum {
            None => &self.xml,
            Some(Checksum::Md5) => &self.sums[0],
            Some(Checksum::Sha1) => &self.sums[1],
            Some(Checksum::Sha256) => &self.sums[2],
            Some(Checksum::Sha512) => &self.sums[3],
        }
    }

    fn weight(&self) -> u64 {
        (self.xml.body.len() + 4 * 200) as u64
    }
}

/// The hex digest of a stored file for a checksum request (`None`: not recorded).
pub fn file_checksum(file: &PackageFile, checksum: Checksum) -> Option<&str> {
    let hex = match checksum {
        Checksum::Md5 => &file.md5,
        Checksum::Sha1 => &file.sha1,
        Checksum::Sha256 => &file.sha256,
        Checksum::Sha512 => &file.sha512,
    };
    (hex.len() == checksum.hex_len()).then_some(hex.as_str())
}

/// One file of a version, and which package holds it.
#[derive(Debug)]
struct Held {
    package: usize,
    file: PackageFile,
}

/// One version of the artifact.
#[derive(Debug)]
pub struct VersionEntry {
    pub version: String,
    files: HashMap<String, Held>,
    /// Timestamped SNAPSHOT files: (build, classifier, extension, file name).
    builds: Vec<(Build, Option<String>, String, String)>,
    /// The SNAPSHOT version-level document (a SNAPSHOT version with timestamped builds).
    pub snapshot: Option<Docs>,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct ArtifactIndex {
    packages: Vec<Package>,
    versions: HashMap<String, VersionEntry>,
    /// The artifact-level document; `None` when no version is listed.
    pub metadata: Option<Docs>,
    weight: u64,
}

impl Weighed for ArtifactIndex {
    fn weight(&self) -> u64 {
        self.weight
    }
}

impl ArtifactIndex {
    /// The index of `packages` (every version of one name, any projects) and their files.
    /// `group_id` and `artifact_id` name the artifact in the documents.
    pub fn build(
        group_id: &str,
        artifact_id: &str,
        packages: Vec<Package>,
        files: Vec<PackageFile>,
    ) -> Result<ArtifactIndex, ApiError> {
        let packages: Vec<Package> = packages
            .into_iter()
            .filter(|p| p.status.downloadable())
            .collect();
        let slot: HashMap<PackageId, usize> = packages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id, i))
            .collect();
        let mut versions: HashMap<String, VersionEntry> = HashMap::new();
        let mut weight = 256u64;
        for file in files {
            let Some(&i) = slot.get(&file.package_id) else {
                continue;
            };
            weight += 300 + file.file_name.len() as u64;
            let version = &packages[i].version;
            let entry = versions
                .entry(version.clone())
                .or_insert_with(|| VersionEntry {
                    version: version.clone(),
                    files: HashMap::new(),
                    builds: Vec::new(),
                    snapshot: None,
                });
            // The newest publish wins (another project, or a re-deploy allowed by the
            // duplicate setting).
            let newer = entry.files.get(&file.file_name).is_none_or(|held| {
                (file.created_at, file.id.0) > (held.file.created_at, held.file.id.0)
            });
            if newer {
                entry
                    .files
                    .insert(file.file_name.clone(), Held { package: i, file });
            }
        }
        // Listed versions: a package Maven may resolve (not hidden) with at least one file.
        let mut listed: Vec<String> = Vec::new();
        let mut last_updated = 0i64;
        for entry in versions.values_mut() {
            let shown = entry
                .files
                .values()
                .any(|h| packages[h.package].status.detailed());
            if shown {
                listed.push(entry.version.clone());
                if let Some(t) = entry.files.values().map(|h| h.file.created_at).max() {
                    last_updated = last_updated.max(t);
                }
            }
            if layout::is_snapshot(&entry.version) {
                entry.index_builds(artifact_id);
                entry.snapshot = entry.snapshot_docs(group_id, artifact_id)?;
                if let Some(d) = &entry.snapshot {
                    weight += d.weight();
                }
            }
        }
        listed.sort_by(|a, b| version::compare(a, b).then_with(|| a.cmp(b)));
        let metadata = if listed.is_empty() {
            None
        } else {
            let body = views::artifact_metadata(&views::ArtifactMetadata {
                group_id,
                artifact_id,
                versions: &listed,
                last_updated: &views::maven_time(last_updated),
            });
            let docs = Docs::of(body)?;
            weight += docs.weight();
            Some(docs)
        };
        Ok(ArtifactIndex {
            packages,
            versions,
            metadata,
            weight,
        })
    }

    pub fn version(&self, version: &str) -> Option<&VersionEntry> {
        self.versions.get(version)
    }

    /// The file a request names in `version`: the stored file of that name, or for a
    /// non-unique SNAPSHOT name (`lib-1.0-SNAPSHOT.jar`) the newest build's file of the same
    /// classifier and extension.
    pub fn file(&self, version: &str, file: &VersionFile) -> Option<(&Package, &PackageFile)> {
        let entry = self.versions.get(version)?;
        let held = match entry.files.get(&file.name) {
            Some(h) => h,
            None if file.build.is_none() && layout::is_snapshot(version) => {
                let (_, _, _, name) = entry
                    .builds
                    .iter()
                    .filter(|(_, c, e, _)| *c == file.classifier && *e == file.extension)
                    .max_by(|a, b| a.0.cmp(&b.0))?;
                entry.files.get(name)?
            }
            None => return None,
        };
        Some((&self.packages[held.package], &held.file))
    }

    /// Whether `version` has files (a version-level metadata upload needs them first).
    pub fn has_files(&self, version: &str) -> bool {
        self.versions
            .get(version)
            .is_some_and(|e| !e.files.is_empty())
    }

    /// Whether any version is stored.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }
}

impl VersionEntry {
    fn index_builds(&mut self, artifact_id: &str) {
        let mut builds = Vec::new();
        for name in self.files.keys() {
            if let Ok(VersionFile {
                build: Some(build),
                classifier,
                extension,
                ..
            }) = layout::version_file(artifact_id, &self.version, name)
            {
                builds.push((build, classifier, extension, name.clone()));
            }
        }
        builds.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.3.cmp(&b.3)));
        self.builds = builds;
    }

    fn snapshot_docs(&self, group_id: &str, artifact_id: &str) -> Result<Option<Docs>, ApiError> {
        let Some((newest, _, _, _)) = self.builds.last() else {
            return Ok(None);
        };
        // The newest build of each classifier and extension (builds are sorted).
        let mut by_kind: Vec<SnapshotVersion> = Vec::new();
        let base = &self.version[..self.version.len() - "SNAPSHOT".len()];
        let mut last_updated = 0i64;
        for (build, classifier, extension, name) in self.builds.iter().rev() {
            let created = self.files.get(name).map_or(0, |h| h.file.created_at);
            last_updated = last_updated.max(created);
            if by_kind
                .iter()
                .any(|s| s.classifier == *classifier && s.extension == *extension)
            {
                continue;
            }
            by_kind.push(SnapshotVersion {
                classifier: classifier.clone(),
                extension: extension.clone(),
                value: format!("{base}{}", build.label()),
                updated: views::maven_time(created),
            });
        }
        by_kind.sort_by(|a, b| match a.extension.cmp(&b.extension) {
            Ordering::Equal => a.classifier.cmp(&b.classifier),
            other => other,
        });
        let body = views::version_metadata(&views::VersionMetadata {
            group_id,
            artifact_id,
            version: &self.version,
            timestamp: &newest.timestamp,
            build_number: newest.number,
            last_updated: &views::maven_time(last_updated),
            snapshot_versions: &by_kind,
        });
        Docs::of(body).map(Some)
    }
}
