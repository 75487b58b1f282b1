//! `PUT .../nuget/` and `PUT .../nuget/v2` (push): a multipart form whose `package` part is
//! the `.nupkg`, as `nuget push` and `dotnet nuget push` send it.
//!
//! The part is streamed into the blob store while hashed (constant memory), read back into
//! an anonymous temporary file on the blocking pool and its `.nuspec` read there (bounded:
//! `crate::package`), then committed through the Registry (publish right, protection rules,
//! the group's NuGet duplicate setting). Any refusal before the commit discards the upload.
//!
//! Credentials: any of GitLab's (the `PackageCaller`), or `X-NuGet-ApiKey: <token>` (a PAT,
//! deploy token or job token), which is what `-ApiKey` sends.

use std::io::{self, BufReader, Seek, SeekFrom};

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;

use packyard_core::body::{read_blocking, BlockingReader, BridgeError};
use packyard_core::credentials::Credential;
use packyard_core::error::printable;
use packyard_core::http::{content_length, PackageCaller};
use packyard_core::model::{PackageStatus, Project};
use packyard_core::policy::Action;
use packyard_core::ports::{ByteStream, DuplicatePolicy};
use packyard_core::registry::PublishRequest;
use packyard_core::staged::Staged;
use packyard_core::{ApiError, DuplicateRule, Principal, Registry, RouteClass};

use crate::error::bad_request;
use crate::handlers::State;
use crate::index::{self, StoredMetadata};
use crate::package::{self, Nupkg};
use crate::FORMAT;

/// The header `nuget push -ApiKey` sends.
pub const API_KEY: &str = "x-nuget-apikey";

/// Room for the multipart framing around the package part.
const FORM_OVERHEAD: u64 = 1024 * 1024;

/// Largest other form field read (and dropped).
const MAX_FIELD: usize = 64 * 1024;

#[derive(Deserialize)]
pub struct ProjectPath {
    pub id: String,
}

/// The caller of a push or delete: the API key when one is sent (it is what the user
/// named for this command: nuget.exe sends it beside the source's stored credentials, and
/// a wrong key is refused even when those are valid), else GitLab's credentials.
pub async fn principal(
    req: &HttpRequest,
    registry: &Registry,
    caller: PackageCaller,
) -> Result<Principal, ApiError> {
    let Some(key) = req.headers().get(API_KEY) else {
        return Ok(caller.0);
    };
    let key = key
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::message(
                StatusCode::UNAUTHORIZED,
                "the X-NuGet-ApiKey is not a valid token",
            )
            .with_reason("Invalid API key")
        })?;
    registry
        .authenticate(
            Some(Credential::Bearer(key.to_owned())),
            RouteClass::Package,
        )
        .await
}

/// Refusals of a push with their reason in the status line, which is all nuget.exe prints.
pub fn refusal_reason(e: ApiError) -> ApiError {
    refused(
        e,
        "Pushing needs the Developer role or a token with write access",
    )
}

/// Refusals of a delete, likewise.
pub fn delete_refusal_reason(e: ApiError) -> ApiError {
    refused(
        e,
        "Deleting needs the Maintainer role or a token with its rights",
    )
}

fn refused(e: ApiError, role: &'static str) -> ApiError {
    let reason = match e.status() {
        StatusCode::FORBIDDEN => {
            let message = e.client_message().to_ascii_lowercase();
            if message.contains("disabled") {
                "The package registry is disabled for this project"
            } else if message.contains("protected") {
                "Package protected"
            } else if message.contains("privileges") {
                "The token's scopes do not allow this"
            } else {
                role
            }
        }
        StatusCode::CONFLICT => DuplicateRule::MESSAGE,
        StatusCode::PAYLOAD_TOO_LARGE => "Package too large",
        _ => return e,
    };
    e.with_reason(reason)
}

pub async fn push(
    req: HttpRequest,
    path: web::Path<ProjectPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    state: web::Data<State>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let principal = principal(&req, &registry, caller).await?;
    let project = registry
        .authorize_project(
            &principal,
            &path.id,
            Action::PublishPackage,
            RouteClass::Package,
        )
        .await
        .map_err(refusal_reason)?;
    let max = state.config.max_file_size;
    let staged = stage_package_part(&req, &registry, max, body).await?;
    let nupkg = read_staged(&staged).await?;
    if nupkg
        .nuspec
        .package_types
        .iter()
        .any(|t| t.name.eq_ignore_ascii_case("SymbolsPackage"))
    {
        return Err(bad_request(
            "Symbol package pushed as a package",
            "this is a symbol package (.snupkg): push it to the symbolpackage endpoint",
        ));
    }
    commit(&principal, &project, staged, &nupkg, max).await?;
    Ok(HttpResponse::Created().finish())
}

/// Streams the form's package part (`package`, or the first part with a file name) into the
/// blob store; other parts are read (bounded) and dropped.
pub async fn stage_package_part<'r>(
    req: &HttpRequest,
    registry: &'r Registry,
    max: u64,
    body: web::Payload,
) -> Result<Staged<'r>, ApiError> {
    if content_length(req).is_some_and(|len| len > max.saturating_add(FORM_OVERHEAD)) {
        return Err(refusal_reason(ApiError::payload_too_large(max)));
    }
    let is_form = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_form {
        return Err(bad_request(
            "Multipart form expected",
            "push the package as a multipart/form-data form with a `package` part, as nuget push does",
        ));
    }
    let body = close_lf_forms(body, boundary(req));
    let mut form = Multipart::new(req.headers(), body);
    let bad_form = |e: actix_multipart::MultipartError| {
        bad_request(
            "Invalid form",
            format!(
                "the multipart form could not be read: {}",
                printable(&e.to_string())
            ),
        )
    };
    let mut staged = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(bad_form)?;
        let is_package = field.name() == Some("package")
            || field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .is_some();
        if is_package && staged.is_none() {
            let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<bytes::Bytes>>(8);
            let pump = async move {
                while let Some(chunk) = field.next().await {
                    let item = chunk
                        .map_err(|e| io::Error::new(io::ErrorKind::UnexpectedEof, e.to_string()));
                    let stop = item.is_err();
                    if tx.send(item).await.is_err() || stop {
                        break;
                    }
                }
            };
            let stream: ByteStream = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|item| (item, rx))
            })
            .boxed();
            let ((), done) = tokio::join!(pump, registry.stage(stream, Some(max)));
            staged = Some(done.map_err(refusal_reason)?);
        } else {
            let mut read = 0usize;
            while let Some(chunk) = field.next().await {
                read += chunk.map_err(bad_form)?.len();
                if read > MAX_FIELD {
                    return Err(bad_request(
                        "Invalid form",
                        format!(
                            "a form part other than the package is longer than {MAX_FIELD} bytes"
                        ),
                    ));
                }
            }
        }
    }
    let staged = staged.ok_or_else(|| {
        bad_request(
            "Package missing",
            "the form has no `package` part holding the .nupkg",
        )
    })?;
    if staged.size() == 0 {
        return Err(bad_request("Empty package", "the package part is empty"));
    }
    Ok(staged)
}

/// Reads the staged package back into a temporary file and reads its `.nuspec` (bounded).
pub async fn read_staged(staged: &Staged<'_>) -> Result<Nupkg, ApiError> {
    let read = staged.read(None).await?;
    read_blocking(read.stream, spool_and_read)
        .await
        .map_err(BridgeError::for_stored_bytes)?
        .map_err(|e| match e {
            Spool::Io(e) => ApiError::internal(e),
            Spool::Invalid(e) => bad_request("Invalid package", e.0),
        })
}

enum Spool {
    Io(io::Error),
    Invalid(package::InvalidPackage),
}

fn spool_and_read(reader: &mut BlockingReader) -> Result<Nupkg, Spool> {
    let mut copy = tempfile::tempfile().map_err(Spool::Io)?;
    io::copy(reader, &mut copy).map_err(Spool::Io)?;
    copy.seek(SeekFrom::Start(0)).map_err(Spool::Io)?;
    package::read(BufReader::new(copy)).map_err(Spool::Invalid)
}

/// Commits a read package as `{id}.{version}.nupkg` (lower case) of its version.
async fn commit(
    principal: &Principal,
    project: &Project,
    staged: Staged<'_>,
    nupkg: &Nupkg,
    max: u64,
) -> Result<(), ApiError> {
    let id = &nupkg.nuspec.id;
    let lower = index::lower_id(id);
    let version = nupkg.version.normalized();
    let stored = StoredMetadata {
        version: version.clone(),
        full_version: nupkg.version.full(),
        nuspec: nupkg.nuspec.clone(),
        nuspec_xml: nupkg.nuspec_xml.clone(),
    };
    let metadata = serde_json::to_value(&stored).map_err(ApiError::internal)?;
    let request = PublishRequest {
        format: FORMAT,
        name: id.clone(),
        normalized_name: lower.clone(),
        version: version.to_ascii_lowercase(),
        status: PackageStatus::Default,
        status_override: None,
        package_metadata: metadata.clone(),
        file_name: format!("{lower}.{}{}", version.to_ascii_lowercase(), index::NUPKG),
        // The newest push's manifest wins when the group allows duplicates: the package
        // row keeps the first, each file its own.
        file_metadata: metadata,
        // The group's `nuget_duplicates_allowed` decides in the Registry's commit
        // (`Nuget::duplicate_rule`); this is the refusal.
        duplicates: DuplicatePolicy::RejectSameFileName {
            message: DuplicateRule::MESSAGE.into(),
        },
        max_size: Some(max),
    };
    match staged.commit(principal, project, request).await {
        Ok(_) => Ok(()),
        Err(e) if e.status() == StatusCode::CONFLICT => Err(ApiError::conflict(format!(
            "{}: {id} {version} already exists",
            DuplicateRule::MESSAGE
        ))
        .with_reason(DuplicateRule::MESSAGE)),
        Err(e) => Err(refusal_reason(e)),
    }
}

/// The `boundary` parameter of the request's multipart content type.
fn boundary(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)?
        .to_str()
        .ok()?;
    value.split(';').skip(1).find_map(|param| {
        let (key, v) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// nuget.exe 2.8.7 on mono ends its form with `\n--<boundary>--`: a bare LF before the
/// closing delimiter, which a strict multipart reader takes for a body cut short. This
/// passes the body through unchanged but for that one byte: it holds back the last few
/// bytes (so memory stays flat) and, at the end, turns a closing delimiter preceded by a
/// bare LF into the CRLF one.
fn close_lf_forms(
    body: web::Payload,
    boundary: Option<String>,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, actix_web::error::PayloadError>> {
    struct Tail {
        body: web::Payload,
        held: Vec<u8>,
        close: Option<Vec<u8>>,
        keep: usize,
        done: bool,
    }
    let close = boundary.map(|b| format!("\n--{b}--").into_bytes());
    let keep = close.as_ref().map_or(0, |c| c.len() + 16);
    let state = Tail {
        body,
        held: Vec::new(),
        close,
        keep,
        done: false,
    };
    futures_util::stream::unfold(state, |mut t| async move {
        if t.done {
            return None;
        }
        loop {
            match t.body.next().await {
                Some(Ok(chunk)) => {
                    if t.close.is_none() {
                        return Some((Ok(chunk), t));
                    }
                    t.held.extend_from_slice(&chunk);
                    if t.held.len() > t.keep {
                        let out: Vec<u8> = t.held.drain(..t.held.len() - t.keep).collect();
                        return Some((Ok(bytes::Bytes::from(out)), t));
                    }
                }
                Some(Err(e)) => {
                    t.done = true;
                    return Some((Err(e), t));
                }
                None => {
                    t.done = true;
                    if let Some(close) = &t.close {
                        let at = t
                            .held
                            .windows(close.len())
                            .rposition(|w| w == close.as_slice());
                        if let Some(at) = at.filter(|&at| at > 0 && t.held[at - 1] != b'\r') {
                            t.held.insert(at, b'\r');
                        }
                    }
                    if t.held.is_empty() {
                        return None;
                    }
                    let rest = std::mem::take(&mut t.held);
                    return Some((Ok(bytes::Bytes::from(rest)), t));
                }
            }
        }
    })
    // The multipart reader polls again after the end.
    .fuse()
}
