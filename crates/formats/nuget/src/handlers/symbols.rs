//! `PUT .../nuget/symbolpackage` (SymbolPackagePublish/4.9.0:
//! <https://learn.microsoft.com/en-us/nuget/api/symbol-package-publish-resource>) and the
//! symbol server `GET .../nuget/symbolfiles/{file}/{signature}/{file}` (SSQP:
//! <https://github.com/dotnet/symstore/blob/main/docs/specs/Simple_Symbol_Query_Protocol.md>),
//! as GitLab answers them (<https://docs.gitlab.com/user/packages/nuget_repository/#symbol-packages>).
//!
//! - Push: the multipart part `package` (a `.snupkg`) is staged in the blob store, read
//!   back into a temporary file and read ([`crate::symbols`]): its version must be in the
//!   project already. Every `.pdb` is staged too, and only when all are staged and the
//!   duplicate rule has been checked are the files committed to the version: the
//!   `.snupkg` as `{id}.{version}.snupkg` and each `.pdb` under its path in the package
//!   (folders as `%2F`, so that the `.pdb`s of several target frameworks, which share a
//!   name, are all kept), with `{"kind": "symbol", "path", "signature", "checksum"}`.
//! - Symbol server: the project's symbol files are indexed by (file name, signature),
//!   both compared case-insensitively, in a cache keyed by the project's list revision
//!   (any publish or delete in the project moves it). A file is served only when the
//!   `SymbolChecksum` header names its checksum (one of its `;`-separated `SHA256:<hex>`
//!   values); no match is 404 and a missing header 400, as on GitLab.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use packyard_core::body::{read_blocking, BlockingReader, BridgeError};
use packyard_core::cleanup::duplicate_allowed;
use packyard_core::documents::{DerivedCache, Weighed};
use packyard_core::http::{serve_file, PackageCaller};
use packyard_core::model::{Package, PackageFile, Project, ProjectId};
use packyard_core::policy::Action;
use packyard_core::ports::{ByteStream, DuplicatePolicy};
use packyard_core::registry::PublishRequest;
use packyard_core::{ApiError, DuplicateRule, Principal, Registry, RouteClass, Staged};

use crate::error::bad_request;
use crate::handlers::flat::miss;
use crate::handlers::{place, push, State};
use crate::index::{self, lower_id};
use crate::symbols::{self, ReadError, SymbolFile, SymbolPackage, MAX_PDB_SIZE};
use crate::FORMAT;

/// Chunks of a symbol file streamed from its temporary copy into the blob store.
const CHUNK: usize = 64 * 1024;
/// The header debuggers send with the PDB checksum of the module they load.
const CHECKSUM_HEADER: &str = "SymbolChecksum";

pub use push::ProjectPath;

#[derive(Deserialize)]
pub struct SymbolPath {
    pub id: String,
    pub file: String,
    pub signature: String,
    pub same_file: String,
}

// ------------------------------------------------------------------ push

pub async fn push(
    req: HttpRequest,
    path: web::Path<ProjectPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    state: web::Data<State>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let principal = push::principal(&req, &registry, caller).await?;
    let project = registry
        .authorize_project(
            &principal,
            &path.id,
            Action::PublishPackage,
            RouteClass::Package,
        )
        .await
        .map_err(push::refusal_reason)?;
    // Dropping a guard (any `?` below) discards what it staged.
    let staged =
        push::stage_package_part(&req, &registry, state.config.max_file_size, body).await?;
    let read = staged.read(None).await?;
    let parsed = read_blocking(read.stream, spool_and_read)
        .await
        .map_err(BridgeError::for_stored_bytes)?;
    let extracted = match parsed {
        Ok(extracted) => extracted,
        Err(ReadError::Invalid(e)) => return Err(bad_request("Invalid symbol package", e.0)),
        Err(ReadError::Io(e)) => return Err(ApiError::internal(e)),
    };
    commit(
        &req, &registry, &state, &principal, &project, staged, extracted,
    )
    .await
}

/// A symbol package read: its manifest and `.pdb` files, whose bytes were copied one
/// after the other into one anonymous temporary file (one descriptor, however many files).
struct Extracted {
    symbols: SymbolPackage,
    pdbs: std::fs::File,
}

/// Copies the staged `.snupkg` into an anonymous temporary file (a zip is read from its
/// end), then reads it, its `.pdb` files copied into a second one.
fn spool_and_read(reader: &mut BlockingReader) -> Result<Extracted, ReadError> {
    let mut copy = tempfile::tempfile()?;
    io::copy(reader, &mut copy)?;
    copy.seek(SeekFrom::Start(0))?;
    let mut pdbs = io::BufWriter::new(tempfile::tempfile()?);
    let symbols = symbols::read(BufReader::new(copy), &mut pdbs)?;
    let pdbs = pdbs.into_inner().map_err(io::IntoInnerError::into_error)?;
    Ok(Extracted { symbols, pdbs })
}

/// `len` bytes of `file` from `offset`, as a stream read on the blocking pool.
fn file_stream(file: Arc<std::fs::File>, offset: u64, len: u64) -> ByteStream {
    futures_util::stream::unfold(0u64, move |done| {
        let file = file.clone();
        async move {
            if done >= len {
                return None;
            }
            let want = usize::try_from((len - done).min(CHUNK as u64)).unwrap_or(CHUNK);
            let read = web::block(move || {
                let mut file: &std::fs::File = &file;
                file.seek(SeekFrom::Start(offset + done))?;
                let mut buf = vec![0u8; want];
                file.read_exact(&mut buf)?;
                Ok::<_, io::Error>(buf)
            })
            .await
            .map_err(io::Error::other)
            .and_then(|r| r);
            Some(match read {
                Ok(buf) => (Ok(Bytes::from(buf)), done + want as u64),
                // Ends the stream: the store sees the error and stages nothing.
                Err(e) => (Err(e), len),
            })
        }
    })
    .boxed()
}

/// The stored name of a symbol file: its path in the package, folders as `%2F` (as the
/// generic registry stores paths), so that two target frameworks' `Foo.pdb` are two files.
pub fn stored_name(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("%2F")
}

/// What is already stored under a name the push would use.
enum Taken {
    /// The same symbol file (same signature and checksum): nothing to store again.
    Same,
    /// Something else.
    Other,
}

/// Checks everything, stages every symbol file, then commits: nothing is committed when
/// anything is refused (a guard dropped unstaged discards its upload).
async fn commit(
    req: &HttpRequest,
    registry: &Registry,
    state: &State,
    principal: &Principal,
    project: &Project,
    staged: Staged<'_>,
    Extracted {
        symbols,
        pdbs: copy,
    }: Extracted,
) -> Result<HttpResponse, ApiError> {
    let copy = Arc::new(copy);
    let nuspec = &symbols.package.nuspec;
    let lower = lower_id(&nuspec.id);
    let version = symbols.package.version.normalized();
    let loaded = index::load(registry, &state.indexes, req, &[project.id], &lower).await?;
    let Some(entry) = loaded.index.find(&version) else {
        return Err(bad_request(
            "The package of these symbols is not in this project",
            format!(
                "{} {version} is not in this project: push its .nupkg before its .snupkg",
                nuspec.id
            ),
        ));
    };
    let package = &entry.package;
    let snupkg = format!("{lower}.{}{}", entry.lower(), index::SNUPKG);
    let taken: HashMap<&str, Taken> = entry
        .others
        .iter()
        .map(|f| {
            let same = |s: &SymbolFile| {
                f.metadata["signature"].as_str() == Some(s.signature.as_str())
                    && f.metadata["checksum"].as_str()
                        == Some(format!("SHA256:{}", s.checksum).as_str())
            };
            let kind = match symbols
                .files
                .iter()
                .find(|s| stored_name(&s.path) == f.file_name)
            {
                Some(s) if same(s) => Taken::Same,
                _ => Taken::Other,
            };
            (f.file_name.as_str(), kind)
        })
        .collect();
    // The Registry applies the group's duplicate rule at each commit; checked here first
    // so that a refusal comes before the first commit, not half-way.
    let settings = registry.project_duplicate_settings(project).await?;
    let allowed = duplicate_allowed(
        &settings.setting_or(FORMAT.0, false), // NuGet's package type is its id
        &package.name,
        &package.version,
    );
    let duplicate = || {
        ApiError::conflict(format!(
            "{}: {} {} already has symbols; delete the version or allow duplicates",
            DuplicateRule::MESSAGE,
            package.name,
            entry.meta.version
        ))
        .with_reason(DuplicateRule::MESSAGE)
    };
    if !allowed && taken.contains_key(snupkg.as_str()) {
        return Err(duplicate());
    }
    let mut pdbs = Vec::new();
    let mut names = HashSet::new();
    for file in symbols.files {
        let name = stored_name(&file.path);
        match taken.get(name.as_str()) {
            Some(Taken::Same) => continue,
            Some(Taken::Other) if !allowed => return Err(duplicate()),
            _ => {}
        }
        if !names.insert(name.clone()) {
            continue;
        }
        let SymbolFile {
            path,
            signature,
            checksum,
            size,
            offset,
            ..
        } = file;
        let staged = registry
            .stage(file_stream(copy.clone(), offset, size), Some(MAX_PDB_SIZE))
            .await?;
        let metadata = json!({
            "kind": "symbol",
            "path": path,
            "signature": signature,
            "checksum": format!("SHA256:{checksum}"),
        });
        pdbs.push((name, metadata, staged));
    }
    let request = |file_name: String, file_metadata: serde_json::Value| PublishRequest {
        format: FORMAT,
        name: package.name.clone(),
        normalized_name: package.normalized_name.clone(),
        version: package.version.clone(),
        status: package.status,
        status_override: None,
        // Unused for a version that exists (the catalog keeps its metadata); the same
        // should it be deleted meanwhile.
        package_metadata: package.metadata.clone(),
        file_name,
        file_metadata,
        duplicates: DuplicatePolicy::RejectSameFileName {
            message: DuplicateRule::MESSAGE.into(),
        },
        max_size: None,
    };
    let conflict = |e: ApiError| {
        if e.status() == StatusCode::CONFLICT {
            duplicate()
        } else {
            push::refusal_reason(e)
        }
    };
    staged
        .commit(
            principal,
            project,
            request(snupkg, json!({"kind": "symbol_package"})),
        )
        .await
        .map_err(conflict)?;
    let count = pdbs.len();
    for (name, metadata, staged) in pdbs {
        staged
            .commit(principal, project, request(name, metadata))
            .await
            .map_err(conflict)?;
    }
    tracing::info!(
        project = project.id.0,
        package = %package.name,
        version = %package.version,
        symbol_files = count,
        "nuget symbol package pushed"
    );
    Ok(HttpResponse::Created().finish())
}

// ------------------------------------------------------------------ symbol server

/// The symbol server, at project level and (routed by the group table) at group level,
/// where it answers from every project of the group the caller may read.
pub async fn file(
    req: HttpRequest,
    path: web::Path<SymbolPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let principal = &caller.0;
    let place = place(&req, &registry, principal, &path.id).await?;
    if !path.file.eq_ignore_ascii_case(&path.same_file) {
        return Err(bad_request(
            "Invalid symbol file key",
            "a symbol file key is <file>/<signature>/<file>, the same file name twice",
        ));
    }
    let Some(header) = req
        .headers()
        .get(CHECKSUM_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
    else {
        return Err(bad_request(
            "Missing checksum header",
            "the SymbolChecksum header (SHA256:<checksum of the PDB>) is required",
        ));
    };
    let checksums = symbols::requested_checksums(header);
    let mut indexes = Vec::with_capacity(place.projects.len());
    for project in &place.projects {
        indexes.push(load_symbols(&registry, &state, &req, *project).await?);
    }
    let hit = indexes
        .iter()
        .filter_map(|index| index.find(&path.file, &path.signature, &checksums))
        .max_by_key(|e| (e.file.created_at, e.file.id.0));
    let Some(hit) = hit else {
        // GitLab's answer to a key or checksum it does not hold (an anonymous caller at
        // group level is asked for credentials instead: it may see more with them).
        return Err(match miss(principal, place.level) {
            e if e.status() == StatusCode::UNAUTHORIZED => e,
            _ => ApiError::not_found("Symbol"),
        });
    };
    serve_file(
        &registry,
        &req,
        &hit.package,
        &hit.file,
        "application/octet-stream",
    )
    .await
}

/// One symbol file the server answers.
#[derive(Debug)]
pub struct SymbolEntry {
    /// Lower-case hex, without `SHA256:`.
    pub checksum: String,
    /// Its package (metadata left out: only what a download records is needed).
    pub package: Package,
    pub file: PackageFile,
}

/// The symbol files of one project by (file name, signature), both lower-cased.
#[derive(Debug, Default)]
pub struct SymbolIndex {
    files: HashMap<(String, String), Vec<SymbolEntry>>,
    weight: u64,
}

impl Weighed for SymbolIndex {
    fn weight(&self) -> u64 {
        self.weight
    }
}

impl SymbolIndex {
    /// Adds the symbol files among `files` (of `package`); others are left out.
    pub fn add(&mut self, package: &Package, files: &[PackageFile]) {
        for f in files {
            let m = &f.metadata;
            let (Some("symbol"), Some(path), Some(signature), Some(checksum)) = (
                m["kind"].as_str(),
                m["path"].as_str(),
                m["signature"].as_str(),
                m["checksum"].as_str(),
            ) else {
                continue;
            };
            let Some(checksum) = checksum
                .get(..7)
                .filter(|p| p.eq_ignore_ascii_case("SHA256:"))
                .and_then(|_| checksum.get(7..))
            else {
                continue;
            };
            let name = path.rsplit('/').next().unwrap_or(path);
            let key = (name.to_lowercase(), signature.to_ascii_lowercase());
            self.weight += 512 + (key.0.len() + key.1.len() + f.file_name.len()) as u64;
            self.files.entry(key).or_default().push(SymbolEntry {
                checksum: checksum.to_ascii_lowercase(),
                package: Package {
                    metadata: serde_json::Value::Null,
                    ..package.clone()
                },
                file: f.clone(),
            });
        }
    }

    /// The newest symbol file called `file_name` with `signature` whose checksum is one of
    /// `checksums` (lower-case hex).
    pub fn find(
        &self,
        file_name: &str,
        signature: &str,
        checksums: &[String],
    ) -> Option<&SymbolEntry> {
        let key = (file_name.to_lowercase(), signature.to_ascii_lowercase());
        self.files
            .get(&key)?
            .iter()
            .filter(|e| checksums.contains(&e.checksum))
            .max_by_key(|e| (e.file.created_at, e.file.id.0))
    }

    pub fn len(&self) -> usize {
        self.files.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// The symbol index of `project` (read-authorized by the caller), rebuilt when the
/// project's list revision moves: from each package id's index ([`index::load`], itself
/// cached per id), so a push rebuilds the one id's index and reuses the others.
async fn load_symbols(
    registry: &Registry,
    state: &State,
    req: &HttpRequest,
    project: ProjectId,
) -> Result<Arc<SymbolIndex>, ApiError> {
    let revisions = registry
        .package_revisions_at(registry.request_stamp(req), &[project], FORMAT.0, None)
        .await?;
    if revisions.is_empty() {
        return Ok(Arc::new(SymbolIndex::default()));
    }
    let key = format!("nuget/symbols/{}", project.0);
    state
        .symbols
        .get_or_build(&key, &revisions, |_| async {
            let mut symbols = SymbolIndex::default();
            let names = registry
                .packages()
                .package_names(&[project], FORMAT.0)
                .await?;
            for name in names {
                let loaded = index::load(
                    registry,
                    &state.indexes,
                    req,
                    &[project],
                    &name.normalized_name,
                )
                .await?;
                for v in &loaded.index.versions {
                    symbols.add(&v.package, &v.others);
                }
            }
            Ok(symbols)
        })
        .await
}

/// The cache of symbol indexes, one per project.
pub fn cache(capacity_bytes: u64) -> DerivedCache<SymbolIndex> {
    DerivedCache::new(capacity_bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use packyard_core::model::{PackageFileId, PackageId, PackageStatus};

    fn package(id: i64) -> Package {
        Package {
            id: PackageId(id),
            project_id: ProjectId(1),
            format: "nuget".into(),
            name: "Demo.Lib".into(),
            normalized_name: "demo.lib".into(),
            version: "1.0.0".into(),
            status: PackageStatus::Default,
            metadata: json!({"nuspec_xml": "<package/>"}),
            created_at: 1,
            updated_at: 1,
            last_downloaded_at: None,
        }
    }

    fn file(id: i64, name: &str, metadata: serde_json::Value, at: i64) -> PackageFile {
        PackageFile {
            id: PackageFileId(id),
            package_id: PackageId(1),
            file_name: name.into(),
            size: 10,
            sha256: "0".repeat(64),
            sha1: String::new(),
            md5: String::new(),
            sha512: String::new(),
            metadata,
            build: None,
            created_at: at,
        }
    }

    const SIG: &str = "497b72f6390a44fc878e5a2d63b6cc4bFFFFFFFF";

    fn symbol(path: &str, checksum: &str) -> serde_json::Value {
        json!({"kind": "symbol", "path": path, "signature": SIG, "checksum": format!("SHA256:{checksum}")})
    }

    #[test]
    fn symbol_files_are_stored_under_their_path_with_folders_encoded() {
        assert_eq!(
            stored_name("lib/net8.0/Demo.pdb"),
            "lib%2Fnet8.0%2FDemo.pdb"
        );
        assert_eq!(stored_name("Demo.pdb"), "Demo.pdb");
    }

    #[test]
    fn a_symbol_file_is_found_by_name_and_signature_in_any_case_with_its_checksum_only() {
        let a = "a".repeat(64);
        let b = "B".repeat(64);
        let mut index = SymbolIndex::default();
        index.add(
            &package(1),
            &[
                file(1, "demo.lib.1.0.0.snupkg", json!({"kind": "symbol_package"}), 1),
                file(2, "lib%2Fnet8.0%2FDemo.pdb", symbol("lib/net8.0/Demo.pdb", &a), 1),
                file(3, "lib%2Fnet48%2FDemo.pdb", symbol("lib/net48/Demo.pdb", &b), 1),
                // Not ours: no kind, a checksum of another algorithm.
                file(4, "x.pdb", json!({"signature": SIG}), 1),
                file(5, "y.pdb", json!({"kind": "symbol", "path": "y.pdb", "signature": SIG, "checksum": "MD5:00"}), 1),
            ],
        );
        assert_eq!(index.len(), 2);
        let hit = index
            .find(
                "DEMO.PDB",
                &SIG.to_ascii_uppercase(),
                std::slice::from_ref(&a),
            )
            .unwrap();
        assert_eq!(hit.file.id, PackageFileId(2));
        // The package is kept without its metadata (only downloads are recorded with it).
        assert_eq!(hit.package.metadata, serde_json::Value::Null);
        let hit = index
            .find("demo.pdb", SIG, &[b.to_ascii_lowercase()])
            .unwrap();
        assert_eq!(hit.file.id, PackageFileId(3));
        assert!(index.find("demo.pdb", SIG, &[]).is_none());
        assert!(index.find("demo.pdb", SIG, &["c".repeat(64)]).is_none());
        assert!(index
            .find("other.pdb", SIG, std::slice::from_ref(&a))
            .is_none());
        assert!(index
            .find("demo.pdb", &SIG.replace('4', "5"), &[a])
            .is_none());
        assert!(index.find("x.pdb", SIG, &["0".repeat(64)]).is_none());
    }

    #[test]
    fn the_newest_of_two_identical_symbol_files_is_served() {
        let a = "a".repeat(64);
        let mut index = SymbolIndex::default();
        index.add(
            &package(1),
            &[
                file(7, "Demo.pdb", symbol("Demo.pdb", &a), 5),
                file(8, "Demo.pdb", symbol("Demo.pdb", &a), 9),
                file(9, "Demo.pdb", symbol("Demo.pdb", &a), 2),
            ],
        );
        assert_eq!(
            index.find("demo.pdb", SIG, &[a]).unwrap().file.id,
            PackageFileId(8)
        );
    }

    #[actix_web::test]
    async fn symbol_files_stream_back_from_their_ranges_of_the_temporary_copy() {
        use std::io::Write as _;
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut copy = tempfile::tempfile().unwrap();
        copy.write_all(&bytes).unwrap();
        let copy = Arc::new(copy);
        let read = |offset, len| {
            file_stream(copy.clone(), offset, len)
                .map(|c| c.unwrap())
                .collect::<Vec<Bytes>>()
        };
        let whole = read(0, bytes.len() as u64).await;
        assert!(whole.len() >= 4, "{} chunks", whole.len());
        assert_eq!(whole.concat(), bytes);
        // Two files of one copy, each exactly its range, in any order.
        assert_eq!(read(150_000, 50_000).await.concat(), &bytes[150_000..]);
        assert_eq!(read(7, 70_000).await.concat(), &bytes[7..70_007]);
        assert!(read(9, 0).await.is_empty());
        // A range past the end fails rather than coming back short.
        let past: Vec<_> = file_stream(copy.clone(), 199_990, 20).collect().await;
        assert!(past.iter().any(|c| c.is_err()));
    }
}
