//! `POST /api/v4/projects/:id/packages/pypi`: the legacy upload API twine, uv and poetry
//! speak (<https://docs.pypi.org/api/upload/>): a multipart form with `:action=file_upload`,
//! metadata fields, digests and the `content` file part.
//!
//! The form is read as a stream. Small fields are buffered up to a bound; unknown fields
//! (descriptions, classifiers) are drained unread. The `content` part streams into the blob
//! store and, at the same time, through core's bridge to the blocking pool, where it is
//! spooled into an anonymous temporary file and its core metadata read (bounded). Whatever
//! is refused after staging is discarded when its `Staged` guard drops: no row refers to
//! it, and `packyard gc` removes its blob after the grace period unless another publish of
//! the same bytes committed it.

use std::collections::HashMap;
use std::io::{self, BufReader, Seek, SeekFrom};

use actix_multipart::{Field, Multipart};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use packyard_core::body::{read_blocking, BlockingReader, BridgeError};
use packyard_core::http::{content_length, PackageCaller};
use packyard_core::model::{PackageStatus, Project};
use packyard_core::policy::Action;
use packyard_core::ports::{ByteStream, DuplicatePolicy};
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

/// The `content` part: staged in the blob store (dropping it discards the upload), with its
/// core metadata as read while it streamed (`None` when the file name is unusable).
struct Upload<'r> {
    file_name: String,
    staged: Staged<'r>,
    metadata: Option<Result<Vec<u8>, metadata::Invalid>>,
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

/// Streams the content part into the blob store and, at the same time, through core's
/// bridge (`packyard_core::body::read_blocking`) to the blocking pool, where it is spooled
/// into an anonymous temporary file (a wheel is a zip, read from its end) and its core
/// metadata read, bounded. One pass over the bytes; memory stays flat.
async fn stage<'r>(
    registry: &'r Registry,
    config: &PypiConfig,
    field: &mut Field,
    file_name: String,
) -> Result<Upload<'r>, PypiError> {
    // An unusable file name is refused by `publish`, before the metadata would be read.
    let kind = metadata::parse_file_name(&file_name).ok().map(|d| d.kind);
    let (store_tx, store_rx) = mpsc::channel::<io::Result<Bytes>>(8);
    let (copy_tx, copy_rx) = mpsc::channel::<io::Result<Bytes>>(8);
    let reader = read_blocking(receiver_stream(copy_rx), move |r| {
        kind.map(|kind| spool_and_read(r, kind))
    });
    // `move`: both senders end with the pump, which ends both streams.
    let pump = async move {
        let mut copy_tx = Some(copy_tx);
        while let Some(chunk) = field.next().await {
            match chunk {
                Ok(bytes) => {
                    if let Some(tx) = &copy_tx {
                        // The reader may be done (it found the metadata or failed): it
                        // reports, the store still takes every byte.
                        if tx.send(Ok(bytes.clone())).await.is_err() {
                            copy_tx = None;
                        }
                    }
                    if store_tx.send(Ok(bytes)).await.is_err() {
                        // The store stopped reading (limit reached or failure): it reports.
                        return None;
                    }
                }
                Err(e) => {
                    let cut = || io::Error::new(io::ErrorKind::UnexpectedEof, e.to_string());
                    if let Some(tx) = &copy_tx {
                        let _ = tx.send(Err(cut())).await;
                    }
                    let _ = store_tx.send(Err(cut())).await;
                    return Some(bad_form(e));
                }
            }
        }
        None
    };
    let (failure, staged, read) = tokio::join!(
        pump,
        registry.stage(receiver_stream(store_rx), Some(config.max_file_size)),
        reader
    );
    let staged = staged?;
    if let Some(e) = failure {
        return Err(e);
    }
    let metadata = match read.map_err(BridgeError::for_request_body)? {
        Some(Err(Spool::Io(e))) => return Err(ApiError::internal(e).into()),
        Some(Err(Spool::Invalid(e))) => Some(Err(e)),
        Some(Ok(raw)) => Some(Ok(raw)),
        None => None,
    };
    Ok(Upload {
        file_name,
        staged,
        metadata,
    })
}

fn receiver_stream(rx: mpsc::Receiver<io::Result<Bytes>>) -> ByteStream {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed()
}

enum Spool {
    /// The temporary file failed: ours.
    Io(io::Error),
    /// The distribution is not what it says: the uploader's.
    Invalid(metadata::Invalid),
}

/// Copies the upload into an anonymous temporary file, then reads its core metadata.
fn spool_and_read(reader: &mut BlockingReader, kind: DistKind) -> Result<Vec<u8>, Spool> {
    let mut copy = tempfile::tempfile().map_err(Spool::Io)?;
    io::copy(reader, &mut copy).map_err(Spool::Io)?;
    copy.seek(SeekFrom::Start(0)).map_err(Spool::Io)?;
    archive::core_metadata(BufReader::new(copy), kind).map_err(Spool::Invalid)
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
    let raw = upload
        .metadata
        .ok_or_else(|| {
            ApiError::internal(io::Error::other(
                "the metadata of a valid file name was not read",
            ))
        })?
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
