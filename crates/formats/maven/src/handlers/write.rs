//! `PUT` into the Maven layout of a project, in the order `mvn deploy` sends it: each
//! file, then its `.sha1` and `.md5`, then the version-level (SNAPSHOT) and artifact-level
//! `maven-metadata.xml` with theirs.
//!
//! - A file is streamed into the blob store while hashed (constant memory), checked (not
//!   empty; a pom must be XML whose coordinates match its path) and committed through the
//!   Registry (publish right, protection rules, the group's Maven duplicate setting).
//! - A checksum file is compared with the digest computed at upload: a mismatch is refused
//!   and logged. Nothing is stored: checksums are always answered from our digests.
//! - A metadata file is read (bounded, no DTD) and checked against what is stored, then
//!   dropped: the metadata Maven reads is derived from the catalog, so a client's copy
//!   never overwrites it.
//!
//! Every answer to a PUT is a 2xx or a 4xx whose reason phrase says why (Maven prints
//! only the status line).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::json;

use packyard_core::body::read_bounded;
use packyard_core::error::printable;
use packyard_core::http::{content_length, payload_stream, PackageCaller};
use packyard_core::model::{PackageStatus, Project};
use packyard_core::policy::Action;
use packyard_core::ports::DuplicatePolicy;
use packyard_core::registry::PublishRequest;
use packyard_core::staged::Staged;
use packyard_core::{ApiError, DuplicateRule, Principal, Registry, RouteClass};

use crate::error::{bad_path, bad_request};
use crate::handlers::read::{load_index, ProjectPath};
use crate::handlers::State;
use crate::index::file_checksum;
use crate::layout::{self, Artifact, Checksum, Target, VersionFile};
use crate::{xml, FORMAT};

/// Largest pom read, in bytes.
pub const MAX_POM: u64 = 4 * 1024 * 1024;
/// Largest `maven-metadata.xml` accepted, in bytes.
pub const MAX_METADATA: usize = 4 * 1024 * 1024;
/// Largest checksum file accepted, in bytes (a digest, a file name, a newline).
pub const MAX_CHECKSUM: usize = 1024;

pub async fn put(
    req: HttpRequest,
    path: web::Path<ProjectPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    state: web::Data<State>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let principal = &caller.0;
    let project = registry
        .authorize_project(
            principal,
            &path.id,
            Action::PublishPackage,
            RouteClass::Package,
        )
        .await?;
    let target = layout::parse(&path.path).map_err(bad_path)?;
    match target {
        Target::File {
            artifact,
            version,
            file,
            checksum: None,
        } => {
            publish_file(
                &req, &registry, &state, principal, &project, &artifact, &version, &file, body,
            )
            .await
        }
        target => match target.checksum() {
            Some(checksum) => {
                verify_checksum(&req, &registry, &state, &project, &target, checksum, body).await
            }
            None => check_metadata(&req, &registry, &state, &project, &target, body).await,
        },
    }
}

#[allow(clippy::too_many_arguments)]
async fn publish_file(
    req: &HttpRequest,
    registry: &Registry,
    state: &State,
    principal: &Principal,
    project: &Project,
    artifact: &Artifact,
    version: &str,
    file: &VersionFile,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let max = state.config.max_file_size;
    if content_length(req).is_some_and(|len| len > max) {
        return Err(ApiError::payload_too_large(max));
    }
    let staged = registry.stage(payload_stream(body), Some(max)).await?;
    if staged.size() == 0 {
        return Err(bad_request(
            "Empty file",
            format!("{} is empty", printable(&file.name)),
        ));
    }
    let mut packaging = None;
    if file.extension == "pom" && file.classifier.is_none() {
        let pom = read_pom(&staged).await?;
        check_pom(&pom, artifact, version)?;
        packaging = pom.packaging;
    }
    let mut package_metadata = json!({
        "path": format!("{}/{version}", artifact.name()),
        "app_group": artifact.group_id(),
        "app_name": artifact.artifact_id,
        "app_version": version,
    });
    if let Some(p) = packaging {
        package_metadata["packaging"] = json!(p);
    }
    let request = PublishRequest {
        format: FORMAT,
        name: artifact.name(),
        normalized_name: artifact.normalized_name(),
        version: version.to_owned(),
        status: PackageStatus::Default,
        status_override: None,
        package_metadata,
        file_name: file.name.clone(),
        file_metadata: json!({
            "classifier": file.classifier,
            "extension": file.extension,
        }),
        // The group's `maven_duplicates_allowed` decides in the Registry's commit
        // (`Maven::duplicate_rule`); this is the refusal.
        duplicates: DuplicatePolicy::RejectSameFileName {
            message: DuplicateRule::MESSAGE.into(),
        },
        max_size: Some(max),
    };
    match staged.commit(principal, project, request).await {
        Ok(_) => Ok(HttpResponse::Created().finish()),
        Err(e) if e.status() == StatusCode::CONFLICT => Err(bad_request(
            "Duplicate package is not allowed",
            format!(
                "{}: {} {version} already has {}",
                DuplicateRule::MESSAGE,
                artifact.name(),
                printable(&file.name)
            ),
        )),
        Err(e) => Err(e),
    }
}

/// Reads the staged pom back (at most [`MAX_POM`] bytes) and parses it.
async fn read_pom(staged: &Staged<'_>) -> Result<xml::Pom, ApiError> {
    if staged.size() > MAX_POM {
        return Err(bad_request(
            "Invalid pom",
            format!("the pom is larger than {MAX_POM} bytes"),
        ));
    }
    let mut read = staged.read(None).await?;
    let mut bytes = Vec::with_capacity(usize::try_from(staged.size()).unwrap_or(0));
    while let Some(chunk) = read.stream.next().await {
        let chunk = chunk.map_err(ApiError::internal)?;
        if (bytes.len() + chunk.len()) as u64 > MAX_POM {
            return Err(bad_request("Invalid pom", "the pom is too large"));
        }
        bytes.extend_from_slice(&chunk);
    }
    web::block(move || xml::read_pom(&bytes))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| bad_request("Invalid pom", e))
}

/// A pom's own coordinates, when it states them without properties, match its path.
fn check_pom(pom: &xml::Pom, artifact: &Artifact, version: &str) -> Result<(), ApiError> {
    let literal = |v: &Option<String>| v.clone().filter(|s| !s.contains('$'));
    let mismatch = |what: &str, found: &str, expected: &str| {
        bad_request(
            "The pom does not match its path",
            format!(
                "the pom's {what} is {}, its path says {}",
                printable(found),
                printable(expected)
            ),
        )
    };
    if let Some(a) = literal(&pom.artifact_id) {
        if a != artifact.artifact_id {
            return Err(mismatch("artifactId", &a, &artifact.artifact_id));
        }
    }
    if let Some(v) = literal(&pom.version) {
        if v != version {
            return Err(mismatch("version", &v, version));
        }
    }
    let group = literal(&pom.group_id).or_else(|| {
        pom.parent
            .as_ref()
            .map(|(g, _, _)| g.clone())
            .filter(|g| !g.contains('$'))
    });
    if let Some(g) = group {
        if g != artifact.group_id() {
            return Err(mismatch("groupId", &g, &artifact.group_id()));
        }
    }
    Ok(())
}

/// A `.md5`/`.sha1`/`.sha256`/`.sha512` PUT: compared with what we computed.
async fn verify_checksum(
    req: &HttpRequest,
    registry: &Registry,
    state: &State,
    project: &Project,
    target: &Target,
    checksum: Checksum,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let bytes = read_bounded(body, MAX_CHECKSUM).await?;
    let given = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|t| t.split_whitespace().next())
        .map(str::to_ascii_lowercase)
        .filter(|h| h.len() == checksum.hex_len() && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| {
            bad_request(
                "Invalid checksum file",
                format!(
                    "a .{} file holds {} hex digits",
                    checksum.suffix(),
                    checksum.hex_len()
                ),
            )
        })?;
    let Target::File {
        artifact,
        version,
        file,
        ..
    } = target
    else {
        // The checksum of the client's metadata copy: that copy is not kept, and the
        // metadata's checksums are those of the derived document.
        return Ok(HttpResponse::Created().finish());
    };
    let index = load_index(registry, state, req, &[project.id], artifact).await?;
    let Some((_, stored)) = index.file(version, file) else {
        return Err(bad_request(
            "Checksum of a missing file",
            format!(
                "{} is not stored: upload it before its checksum",
                printable(&file.name)
            ),
        ));
    };
    let ours = file_checksum(stored, checksum).unwrap_or_default();
    if ours == given {
        return Ok(HttpResponse::Created().finish());
    }
    tracing::warn!(
        project = project.id.0,
        package = %artifact.name(),
        version = %version,
        file = %file.name,
        algorithm = checksum.suffix(),
        "maven checksum mismatch: the uploaded checksum does not match the stored bytes"
    );
    Err(bad_request(
        "Checksum mismatch",
        format!(
            "the {} of {} as stored is {ours}, the uploaded checksum says {given}",
            checksum.suffix(),
            printable(&file.name)
        ),
    ))
}

/// A `maven-metadata.xml` PUT: read, checked against the catalog, not stored.
async fn check_metadata(
    req: &HttpRequest,
    registry: &Registry,
    state: &State,
    project: &Project,
    target: &Target,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let bytes = read_bounded(body, MAX_METADATA).await?;
    let uploaded = web::block(move || xml::read_metadata(&bytes))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| bad_request("Invalid maven-metadata.xml", e))?;
    let artifact = target.artifact();
    if uploaded.has_plugins {
        // A groupId-level document (plugin prefixes): nothing of it is served.
        return Ok(HttpResponse::Created().finish());
    }
    let index = load_index(registry, state, req, &[project.id], artifact).await?;
    let mismatch = |what: &str, found: &str, expected: &str| {
        bad_request(
            "The metadata does not match its path",
            format!(
                "the metadata's {what} is {}, its path says {}",
                printable(found),
                printable(expected)
            ),
        )
    };
    if let Some(a) = &uploaded.artifact_id {
        if !a.eq_ignore_ascii_case(&artifact.artifact_id) {
            return Err(mismatch("artifactId", a, &artifact.artifact_id));
        }
    }
    if let Some(g) = &uploaded.group_id {
        if !g.eq_ignore_ascii_case(&artifact.group_id()) {
            return Err(mismatch("groupId", g, &artifact.group_id()));
        }
    }
    match target {
        Target::VersionMetadata { version, .. } => {
            if !index.has_files(version) {
                return Err(bad_request(
                    "No files for this version",
                    format!(
                        "{} {} has no files: upload them before its metadata",
                        artifact.name(),
                        printable(version)
                    ),
                ));
            }
        }
        _ => {
            if index.is_empty() {
                return Err(bad_request(
                    "No versions for this artifact",
                    format!(
                        "{} has no files: upload a version before its metadata",
                        artifact.name()
                    ),
                ));
            }
        }
    }
    Ok(HttpResponse::Created().finish())
}
