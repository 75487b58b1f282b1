//! `GET`/`HEAD` of the Maven layout at project, group and instance level: files (a
//! stream, or a presigned redirect), their checksums (from the digests computed at upload,
//! whether or not the client uploaded one), and the derived metadata with its checksums.
//!
//! Group and instance reads cover every project the caller may read; when two projects
//! hold the same file, the newest publish wins, as on GitLab. An anonymous miss at group or
//! instance level answers 401 with `WWW-Authenticate: Basic`, so that Maven, which sends
//! credentials only after a challenge, retries with them.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Deserialize;

use packyard_core::documents::{serve_document, Document};
use packyard_core::http::PackageCaller;
use packyard_core::model::ProjectId;
use packyard_core::scope::{project_ids, Scope};
use packyard_core::serve::serve_file;
use packyard_core::{ApiError, Principal, Registry};

use crate::error::{bad_path, not_found};
use crate::handlers::State;
use crate::index::{file_checksum, ArtifactIndex, CHECKSUM};
use crate::layout::{self, Artifact, Target};
use crate::FORMAT;

#[derive(Deserialize)]
pub struct ProjectPath {
    pub id: String,
    pub path: String,
}

#[derive(Deserialize)]
pub struct InstancePath {
    pub path: String,
}

/// Where a read looks.
#[derive(Clone, Copy)]
enum Place<'a> {
    Project(&'a str),
    Group(&'a str),
    Instance,
}

pub async fn project(
    req: HttpRequest,
    path: web::Path<ProjectPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    read(
        &req,
        &registry,
        &state,
        &caller.0,
        Place::Project(&path.id),
        &path.path,
    )
    .await
}

pub async fn group(
    req: HttpRequest,
    path: web::Path<ProjectPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    read(
        &req,
        &registry,
        &state,
        &caller.0,
        Place::Group(&path.id),
        &path.path,
    )
    .await
}

pub async fn instance(
    req: HttpRequest,
    path: web::Path<InstancePath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    read(
        &req,
        &registry,
        &state,
        &caller.0,
        Place::Instance,
        &path.path,
    )
    .await
}

/// The content type of a file, by its extension.
fn content_type(extension: &str) -> &'static str {
    match extension.rsplit('.').next().unwrap_or(extension) {
        "jar" | "war" | "ear" | "aar" => "application/java-archive",
        "pom" | "xml" => "application/xml",
        "module" | "json" => "application/json",
        "asc" => "application/pgp-signature",
        _ => "application/octet-stream",
    }
}

async fn read(
    req: &HttpRequest,
    registry: &Registry,
    state: &State,
    principal: &Principal,
    place: Place<'_>,
    raw: &str,
) -> Result<HttpResponse, ApiError> {
    let target = layout::parse(raw).map_err(bad_path)?;
    let artifact = target.artifact();
    let projects = match place {
        Place::Project(id) => {
            registry
                .readable_projects(req, principal, Scope::Project(id))
                .await?
        }
        Place::Group(id) => {
            registry
                .readable_projects(req, principal, Scope::Group(id))
                .await?
        }
        Place::Instance => {
            registry
                .readable_projects_holding(req, principal, FORMAT.0, &artifact.normalized_name())
                .await?
        }
    };
    let miss = || {
        if principal.is_anonymous() && !matches!(place, Place::Project(_)) {
            ApiError::unauthorized_basic()
        } else {
            not_found()
        }
    };
    let index = load_index(registry, state, req, &project_ids(&projects), artifact).await?;
    match &target {
        Target::ArtifactMetadata { checksum, .. } => match &index.metadata {
            Some(docs) => Ok(serve_document(req, docs.get(*checksum))),
            None => Err(miss()),
        },
        Target::VersionMetadata {
            version, checksum, ..
        } => match index.version(version).and_then(|v| v.snapshot.as_ref()) {
            Some(docs) => Ok(serve_document(req, docs.get(*checksum))),
            None => Err(miss()),
        },
        Target::File {
            version,
            file,
            checksum,
            ..
        } => {
            let (package, stored) = index.file(version, file).ok_or_else(miss)?;
            match checksum {
                Some(c) => {
                    let hex = file_checksum(stored, *c).ok_or_else(miss)?;
                    let doc = Document::of_bytes(Bytes::copy_from_slice(hex.as_bytes()), CHECKSUM)?;
                    Ok(serve_document(req, &doc))
                }
                None => {
                    serve_file(
                        registry,
                        req,
                        package,
                        stored,
                        content_type(&file.extension),
                    )
                    .await
                }
            }
        }
    }
}

/// The ids joined, sorted: part of a cache key.
fn ids_key(projects: &[ProjectId]) -> String {
    let mut ids: Vec<i64> = projects.iter().map(|p| p.0).collect();
    ids.sort_unstable();
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// The index of `artifact` over `projects` (read-authorized by the caller), from the cache
/// when its revisions have not moved. A name that was never published has no revisions:
/// its empty index costs no query beyond the revisions' (none under the change stamp).
pub async fn load_index(
    registry: &Registry,
    state: &State,
    req: &HttpRequest,
    projects: &[ProjectId],
    artifact: &Artifact,
) -> Result<Arc<ArtifactIndex>, ApiError> {
    let name = artifact.normalized_name();
    if projects.is_empty() {
        return Ok(Arc::new(ArtifactIndex::default()));
    }
    let revisions = registry
        .package_revisions_at(registry.request_stamp(req), projects, FORMAT.0, Some(&name))
        .await?;
    if revisions.is_empty() {
        return Ok(Arc::new(ArtifactIndex::default()));
    }
    let key = format!("maven/artifact/{}/{name}", ids_key(projects));
    state
        .indexes
        .get_or_build(&key, &revisions, |_| async {
            let reads = registry.packages();
            let packages = match projects {
                [one] => reads.packages_by_name(*one, FORMAT.0, &name).await?,
                many => reads.packages_by_name_in(many, FORMAT.0, &name).await?,
            };
            let ids: Vec<_> = packages.iter().map(|p| p.id).collect();
            let files = reads.package_files_of(&ids).await?;
            // The documents spell the artifact as its newest publish did.
            let spelled = packages
                .iter()
                .max_by_key(|p| p.created_at)
                .and_then(|p| p.name.rsplit_once('/'))
                .map(|(g, a)| (g.replace('/', "."), a.to_owned()))
                .unwrap_or_else(|| (artifact.group_id(), artifact.artifact_id.clone()));
            ArtifactIndex::build(&spelled.0, &spelled.1, packages, files)
        })
        .await
}
