//! `POST /api/v4/projects/:id/packages/pypi`: the legacy upload API twine, uv and poetry
//! speak (<https://docs.pypi.org/api/upload/>): a multipart form with `:action=file_upload`,
//! metadata fields, digests and the `content` file part.
//!
//! The form is read as a stream. Small fields are buffered up to a bound; unknown fields
//! (descriptions, classifiers) are drained unread. The `content` part streams into the blob
//! store and, at the same time, into an anonymous temporary file, from which the core
//! metadata is read (bounded) on the blocking pool. Whatever is refused after staging is
//! discarded when its `Staged` guard drops: no row refers to it, and `packyard gc` removes
//! its blob after the grace period unless another publish of the same bytes committed it.

use std::collections::HashMap;
use std::io::{BufReader, Seek, SeekFrom};

use actix_multipart::{Field, Multipart};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use packyard_core::http::{content_length, PackageCaller};
use packyard_core::model::{PackageStatus, Project};
use packyard_core::policy::Action;
use packyard_core::ports::DuplicatePolicy;
use packyard_core::registry::PublishRequest;
use packyard_core::{ApiError, Principal, Registry, RouteClass, Staged};

use crate::error::*;
use crate::handlers::keys;
use crate::metadata::{self, DistKind};
use crate::{archive, PypiConfig, FORMAT};

#[derive(Deserialize)]
pub struct ProjectPath {
    id: String,
}

/// Form fields we read; everything else is drained.
const KNOWN_FIELDS: &[&str] = &[
    ":action",
    "protocol_version",
    "name",
    "version",
    "filetype",
    "pyversion",
    "metadata_version",
    "requires_python",
    "sha256_digest",
    "md5_digest",
];
/// Largest value of a known field.
const MAX_FIELD: usize = 64 * 1024;
/// Room for the form around the file in a declared `Content-Length`.
const FORM_OVERHEAD: u64 = 16 * 1024 * 1024;

/// The `content` part: staged in the blob store (dropping it discards the upload) with a
/// seekable copy to read the metadata from (a wheel is a zip, read from its end).
struct Upload<'r> {
    file_name: String,
    staged: Staged<'r>,
    copy: std::fs::File,
}

pub async fn upload(
    req: HttpRequest,
    path: web::Path<ProjectPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    config: web::Data<PypiConfig>,
    body: web::Payload,
) -> HttpResponse {
    let principal = caller.0;
    let project = match registry
        .authorize_project(
            &principal,
            &path.id,
            Action::PublishPackage,
            RouteClass::Package,
        )
        .await
    {
        Ok(p) => p,
        Err(e) => return PypiError::from(e).into_response(),
    };
    if content_length(&req)
        .is_some_and(|len| len > config.max_file_size.saturating_add(FORM_OVERHEAD))
    {
        return PypiError::from(ApiError::payload_too_large(config.max_file_size)).into_response();
    }
    let mut multipart = Multipart::new(req.headers(), body);
    let mut form = HashMap::new();
    let mut upload = None;
    // A refusal anywhere below drops the staged upload, which discards it.
    let outcome = match read_form(&mut multipart, &registry, &config, &mut form, &mut upload).await
    {
        Ok(()) => publish(&principal, &project, form, upload).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

fn bad_form(e: impl std::fmt::Display) -> PypiError {
    PypiError::refused(
        INVALID_FORM,
        format!("the multipart form could not be read: {e}"),
    )
}

async fn read_form<'r>(
    multipart: &mut Multipart,
    registry: &'r Registry,
    config: &PypiConfig,
    form: &mut HashMap<String, String>,
    upload: &mut Option<Upload<'r>>,
) -> Result<(), PypiError> {
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(bad_form)?;
        let name = field.name().unwrap_or_default().to_owned();
        if name == "content" {
            if upload.is_some() {
                return Err(PypiError::refused(
                    INVALID_FORM,
                    "the form has more than one content part",
                ));
            }
            let file_name = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .map(str::to_owned)
                .filter(|f| !f.is_empty())
                .ok_or_else(|| PypiError::refused(NO_FILE, "the content part has no file name"))?;
            *upload = Some(stage(registry, config, &mut field, file_name).await?);
        } else if KNOWN_FIELDS.contains(&name.as_str()) {
            let mut value = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(bad_form)?;
                if value.len() + chunk.len() > MAX_FIELD {
                    return Err(PypiError::refused(
                        INVALID_FORM,
                        format!("the form field '{name}' is longer than {MAX_FIELD} bytes"),
                    ));
                }
                value.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(value).map_err(|_| {
                PypiError::refused(
                    INVALID_FORM,
                    format!("the form field '{name}' is not UTF-8"),
                )
            })?;
            form.entry(name).or_insert(value);
        } else {
            while let Some(chunk) = field.next().await {
                chunk.map_err(bad_form)?;
            }
        }
    }
    Ok(())
}

/// Streams the content part into the blob store and a temporary copy at once.
async fn stage<'r>(
    registry: &'r Registry,
    config: &PypiConfig,
    field: &mut Field,
    file_name: String,
) -> Result<Upload<'r>, PypiError> {
    let copy = tempfile::tempfile().map_err(ApiError::internal)?;
    let mut copy = tokio::fs::File::from_std(copy);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed();
    let pump = async {
        let mut failure: Option<PypiError> = None;
        while let Some(chunk) = field.next().await {
            match chunk {
                Ok(bytes) => {
                    if let Err(e) = copy.write_all(&bytes).await {
                        failure = Some(ApiError::internal(e).into());
                        break;
                    }
                    if tx.send(Ok(bytes)).await.is_err() {
                        // The store stopped reading (limit reached or failure): it reports.
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx
                        .send(Err(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            e.to_string(),
                        )))
                        .await;
                    failure = Some(bad_form(e));
                    break;
                }
            }
        }
        drop(tx);
        if failure.is_none() {
            if let Err(e) = copy.flush().await {
                failure = Some(ApiError::internal(e).into());
            }
        }
        failure
    };
    let (failure, staged) = tokio::join!(pump, registry.stage(stream, Some(config.max_file_size)));
    let staged = staged?;
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(Upload {
        file_name,
        staged,
        copy: copy.into_std().await,
    })
}

fn mismatch(detail: String) -> PypiError {
    PypiError::refused(METADATA_MISMATCH, detail)
}

async fn publish(
    principal: &Principal,
    project: &Project,
    form: HashMap<String, String>,
    upload: Option<Upload<'_>>,
) -> Result<HttpResponse, PypiError> {
    let field = |k: &str| form.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if let Some(action) = field(":action") {
        if action != "file_upload" {
            return Err(PypiError::refused(
                INVALID_FORM,
                format!(
                    "unsupported :action '{}'; only file_upload is supported",
                    metadata::printable(action)
                ),
            ));
        }
    }
    let upload = upload.ok_or_else(|| {
        PypiError::refused(NO_FILE, "the form has no 'content' part with the file")
    })?;
    let digests = upload.staged.digests();
    let dist = metadata::parse_file_name(&upload.file_name)
        .map_err(|e| PypiError::refused(INVALID_FILE_NAME, e.0))?;
    if let Some(sha) = field("sha256_digest") {
        if !sha.eq_ignore_ascii_case(&digests.sha256) {
            return Err(PypiError::refused(
                DIGEST_MISMATCH,
                format!(
                    "sha256_digest is {} but the received file hashes to {}",
                    metadata::printable(sha),
                    digests.sha256
                ),
            ));
        }
    }
    if let Some(md5) = field("md5_digest") {
        if !md5.eq_ignore_ascii_case(&digests.md5) {
            return Err(PypiError::refused(
                DIGEST_MISMATCH,
                format!(
                    "md5_digest is {} but the received file hashes to {}",
                    metadata::printable(md5),
                    digests.md5
                ),
            ));
        }
    }
    if let Some(filetype) = field("filetype") {
        if filetype != dist.kind.filetype() {
            return Err(mismatch(format!(
                "filetype is '{}' but '{}' is a {}",
                metadata::printable(filetype),
                upload.file_name,
                dist.kind.filetype()
            )));
        }
    }
    let kind = dist.kind;
    let mut copy = upload.copy;
    let raw = web::block(move || {
        copy.seek(SeekFrom::Start(0))
            .map_err(|_| metadata::Invalid("the upload could not be read back".into()))?;
        archive::core_metadata(BufReader::new(copy), kind)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| PypiError::refused(INVALID_DISTRIBUTION, e.0))?;
    let raw = String::from_utf8(raw).map_err(|_| {
        PypiError::refused(
            INVALID_METADATA,
            "the core metadata file is not valid UTF-8",
        )
    })?;
    let meta = metadata::parse_core_metadata(raw.as_bytes())
        .map_err(|e| PypiError::refused(INVALID_METADATA, e.0))?;
    metadata::check_agreement(&dist, &meta).map_err(|e| mismatch(e.0))?;
    if let Some(name) = field("name") {
        if metadata::normalize_name(name) != metadata::normalize_name(&meta.name) {
            return Err(mismatch(format!(
                "the form says the project is '{}' but the file's metadata says '{}'",
                metadata::printable(name),
                meta.name
            )));
        }
    }
    if let Some(version) = field("version") {
        if metadata::parse_version(version).ok().as_ref() != Some(&meta.version) {
            return Err(mismatch(format!(
                "the form says the version is '{}' but the file's metadata says '{}'",
                metadata::printable(version),
                meta.version_text
            )));
        }
    }
    let requires_python = meta
        .requires_python
        .clone()
        .or_else(|| field("requires_python").map(str::to_owned));
    let mut file_metadata = json!({
        keys::FILETYPE: kind.filetype(),
        keys::PYTHON_VERSION: dist.python_tag,
    });
    if let Some(rp) = &requires_python {
        file_metadata[keys::REQUIRES_PYTHON] = json!(rp);
    }
    // PEP 658: only wheels carry metadata that is final; sdists may be dynamic.
    if kind == DistKind::Wheel {
        file_metadata[keys::CORE_METADATA_SHA256] =
            json!(hex::encode(Sha256::digest(raw.as_bytes())));
        file_metadata[keys::CORE_METADATA] = json!(raw);
    }
    let normalized_name = metadata::normalize_name(&meta.name);
    let version = dist.version.to_string();
    let file_name = upload.file_name;
    let request = PublishRequest {
        format: FORMAT,
        name: meta.name.clone(),
        normalized_name,
        version: version.clone(),
        status: PackageStatus::Default,
        status_override: None,
        package_metadata: json!({ keys::SUMMARY: meta.summary }),
        file_name: file_name.clone(),
        file_metadata,
        duplicates: DuplicatePolicy::RejectSameFileName {
            message: FILE_EXISTS.into(),
        },
        max_size: None,
    };
    match upload.staged.commit(principal, project, request).await {
        Ok(_) => Ok(packyard_core::http::json(
            StatusCode::CREATED,
            &json!({ "message": "201 Created" }),
        )),
        Err(e) if e.status() == StatusCode::CONFLICT => Err(PypiError::refused(
            FILE_EXISTS,
            format!(
                "'{file_name}' already exists in version {version} of {}; bump the version or delete the file first",
                meta.name
            ),
        )),
        Err(e) => Err(e.into()),
    }
}
