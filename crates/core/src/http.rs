//! HTTP glue every route crate shares: authentication extractors, the upload body bridge, and
//! `Range` parsing; file downloads are answered by [`crate::serve`].

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use crate::credentials;
use crate::error::{ApiError, RouteClass};
use crate::ports::{ByteStream, RangeRequest};
use crate::registry::{Principal, Registry};

fn registry(req: &HttpRequest) -> Result<web::Data<Registry>, ApiError> {
    req.app_data::<web::Data<Registry>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(std::io::Error::other("Registry missing from app data")))
}

/// The credential a request presents (see [`credentials::extract`]): every value of each
/// credential header, as raw bytes, so that a header that is not valid text is a bad
/// credential rather than no credential.
pub fn request_credential(
    req: &HttpRequest,
    basic_allowed: bool,
) -> Result<Option<credentials::Credential>, credentials::CredentialError> {
    let header = |name: &str| {
        req.headers()
            .get_all(name)
            .map(|v| v.as_bytes().to_vec())
            .collect::<Vec<_>>()
    };
    credentials::extract(header, req.query_string(), basic_allowed)
}

fn credential(
    req: &HttpRequest,
    basic_allowed: bool,
) -> Result<Option<credentials::Credential>, ApiError> {
    request_credential(req, basic_allowed).map_err(|e| {
        let err = ApiError::message(StatusCode::UNAUTHORIZED, format!("401 Unauthorized - {e}"));
        if basic_allowed {
            err.www_authenticate(format!("Basic realm=\"{}\"", crate::error::PACKAGE_REALM))
        } else {
            err
        }
    })
}

/// The caller of a management REST route: a user (personal access token) or anonymous.
/// Deploy tokens and CI job tokens work on package routes only: here they are not a user,
/// and the request is refused with 401 before any handler runs, as on GitLab (spec §1.1).
pub struct RestCaller(pub Principal);

/// The caller of a REST route open to every token kind, with REST refusals (404 for the
/// unseen): the Packages API (`/projects/:id/packages`, `/groups/:id/packages`), `GET /user`
/// and a job token's own `DELETE /projects/:id/ci/job_token`.
pub struct TokenCaller(pub Principal);

/// The caller of a package-manager route (Basic carries tokens; 401 asks anonymous callers
/// for credentials).
pub struct PackageCaller(pub Principal);

type LocalFut<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl FromRequest for RestCaller {
    type Error = ApiError;
    type Future = LocalFut<Self>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = registry(req).and_then(|r| Ok((r, credential(req, false)?)));
        Box::pin(async move {
            let (reg, cred) = parsed?;
            match reg.authenticate(cred, RouteClass::Rest).await? {
                Principal::Deploy(_) | Principal::Job { .. } => Err(ApiError::unauthorized()),
                p => Ok(RestCaller(p)),
            }
        })
    }
}

impl FromRequest for TokenCaller {
    type Error = ApiError;
    type Future = LocalFut<Self>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = registry(req).and_then(|r| Ok((r, credential(req, false)?)));
        Box::pin(async move {
            let (reg, cred) = parsed?;
            Ok(TokenCaller(reg.authenticate(cred, RouteClass::Rest).await?))
        })
    }
}

impl FromRequest for PackageCaller {
    type Error = ApiError;
    type Future = LocalFut<Self>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Package routes serve derived documents: the request's stamp is taken here once
        // and reused by the handler (`Registry::request_stamp`).
        let parsed = registry(req).and_then(|r| {
            let cred = credential(req, true)?;
            let stamp = cred.as_ref().map(|_| r.request_stamp(req));
            Ok((r, cred, stamp))
        });
        Box::pin(async move {
            let (reg, cred, stamp) = parsed?;
            Ok(PackageCaller(match stamp {
                Some(stamp) => {
                    reg.authenticate_at(stamp, cred, RouteClass::Package)
                        .await?
                }
                None => reg.authenticate(cred, RouteClass::Package).await?,
            }))
        })
    }
}

/// Turns actix's request payload (bound to its worker thread) into a `Send` stream through a
/// small bounded channel, so memory stays flat however large the upload is.
pub fn payload_stream(mut payload: web::Payload) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(8);
    actix_web::rt::spawn(async move {
        while let Some(chunk) = payload.next().await {
            let item = chunk
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, e.to_string()));
            let stop = item.is_err();
            if tx.send(item).await.is_err() || stop {
                break;
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed()
}

/// The declared body length, if any.
pub fn content_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Parses a single `Range: bytes=...` header; anything else (several ranges, other units,
/// nonsense) is ignored and the whole file is sent, as RFC 9110 allows.
pub fn parse_range(req: &HttpRequest) -> Option<RangeRequest> {
    let v = req.headers().get(header::RANGE)?.to_str().ok()?.trim();
    let spec = v.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        return Some(RangeRequest::Suffix(b.parse().ok()?));
    }
    let start: u64 = a.parse().ok()?;
    let end = if b.is_empty() {
        None
    } else {
        Some(b.parse::<u64>().ok()?)
    };
    if end.is_some_and(|e| e < start) {
        return None;
    }
    Some(RangeRequest::FromTo { start, end })
}

/// Answers a download of one file: see [`crate::serve::serve_file`].
pub use crate::serve::serve_file;

/// A JSON response with GitLab's content type.
pub fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> HttpResponse {
    match serde_json::to_string(value) {
        Ok(body) => HttpResponse::build(status)
            .content_type("application/json")
            .body(body),
        Err(e) => actix_web::ResponseError::error_response(&ApiError::internal(e)),
    }
}
