//! `PUT /:package_name`: publish (the document carries the tarball), or deprecate (it does
//! not); `PUT /:package_name/-rev/:rev`: the packument rewrite `npm unpublish name@version`
//! sends before deleting the tarball.
//!
//! Memory stays flat whatever the tarball's size: the body is read by `body::parse` on the
//! blocking pool through core's bridge (`packyard_core::body::read_blocking`); the
//! attachment's base64 is decoded as it streams and sent through a bounded channel to
//! `Registry::stage`, which hashes it into the blob store. Only then are the manifest, the
//! declared length and integrity, and the `package.json` inside the stored tarball checked;
//! a refusal drops the `Staged` guard, which discards the upload (the shared blob is left to
//! gc).

use std::io;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{json, Map, Value};
use tokio::sync::{mpsc, oneshot};

use packyard_core::body::{read_blocking, BridgeError};
use packyard_core::http::{content_length, payload_stream};
use packyard_core::model::{PackageStatus, Project};
use packyard_core::policy::Action;
use packyard_core::ports::DuplicatePolicy;
use packyard_core::registry::PublishRequest;
use packyard_core::{ApiError, Staged};

use super::{update, Ctx};
use crate::body::{self, AttachmentSink, BodyError, PublishBody, SinkClosed};
use crate::error::{bad_request, body_error, npm_error, npm_shape};
use crate::metadata::{self, NpmName};
use crate::FORMAT;

/// Sends the decoded tarball to the blob store through a bounded channel.
struct ChannelSink {
    started: Option<oneshot::Sender<()>>,
    tx: Option<mpsc::Sender<io::Result<Bytes>>>,
}

impl AttachmentSink for ChannelSink {
    fn begin(&mut self) -> Result<(), SinkClosed> {
        self.started
            .take()
            .ok_or(SinkClosed)?
            .send(())
            .map_err(|_| SinkClosed)
    }
    fn chunk(&mut self, bytes: &[u8]) -> Result<(), SinkClosed> {
        let tx = self.tx.as_ref().ok_or(SinkClosed)?;
        tx.blocking_send(Ok(Bytes::copy_from_slice(bytes)))
            .map_err(|_| SinkClosed)
    }
    fn end(&mut self) {
        self.tx = None;
    }
    fn fail(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.blocking_send(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the attachment could not be read",
            )));
        }
    }
}

pub async fn put(
    ctx: &Ctx,
    raw_name: &str,
    payload: web::Payload,
    rewrite: bool,
) -> Result<HttpResponse, ApiError> {
    let project = ctx.project_for(Action::PublishPackage).await?;
    let name = metadata::parse_name(raw_name).map_err(bad_request)?;
    let max = ctx.config.max_file_size;
    // base64 grows the tarball by 4/3; the rest of the document is bounded by the parser.
    let max_body = max / 3 * 4 + 8 + body::MAX_METADATA;
    if content_length(&ctx.req).is_some_and(|len| len > max_body) {
        return Err(npm_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the package is larger than the limit of {max} bytes"),
        ));
    }
    let (started_tx, started_rx) = oneshot::channel();
    let (tx, mut rx) = mpsc::channel::<io::Result<Bytes>>(8);
    // The document is parsed on the blocking pool; the attachment it decodes is staged here
    // at the same time.
    let parser = read_blocking(payload_stream(payload), move |reader| {
        let mut sink = ChannelSink {
            started: Some(started_tx),
            tx: Some(tx),
        };
        body::parse(reader, &mut sink)
    });
    let stage = async {
        match started_rx.await {
            Ok(()) => {
                let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed();
                Some(ctx.registry.stage(stream, Some(max)).await)
            }
            Err(_) => None,
        }
    };
    let (parsed, staged) = tokio::join!(parser, stage);
    // From here on, a refusal drops `staged`, which discards the upload.
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(BridgeError::Stream(_)) => Err(BodyError::Interrupted),
        Err(e) => return Err(e.for_request_body()),
    };
    let (body, staged) = match (parsed, staged) {
        (Err(BodyError::Aborted), Some(Err(e))) => return Err(npm_shape(e)),
        (Err(e), _) => return Err(body_error(e)),
        (Ok(_), Some(Err(e))) => return Err(npm_shape(e)),
        (Ok(body), Some(Ok(staged))) => (body, Some(staged)),
        (Ok(body), None) => (body, None),
    };
    if let Some(n) = &body.name {
        if *n != name.full() {
            return Err(bad_request(format!(
                "the document names '{}' but was sent to '{}'",
                metadata::printable(n),
                name.full()
            )));
        }
    }
    match staged {
        Some(_) if rewrite => Err(bad_request("a revision update cannot carry a tarball")),
        Some(staged) => publish_staged(ctx, &project, &name, &body, staged).await,
        None if body.attachment.is_some() => Err(bad_request(
            "the attachment has no data: send the tarball base64-encoded in _attachments.<file>.data",
        )),
        None => update::apply(ctx, &project, &name, &body, rewrite).await,
    }
}

async fn publish_staged(
    ctx: &Ctx,
    project: &Project,
    name: &NpmName,
    body: &PublishBody,
    staged: Staged<'_>,
) -> Result<HttpResponse, ApiError> {
    let full = name.full();
    let digests = staged.digests().clone();
    let mut versions = body.versions.iter();
    let (version, manifest) = match (versions.next(), versions.next()) {
        (Some(one), None) => one,
        (None, _) => return Err(bad_request("the document has no version in 'versions'")),
        _ => {
            return Err(bad_request(
                "publish one version at a time: 'versions' holds more than one",
            ))
        }
    };
    metadata::parse_version(version).map_err(bad_request)?;
    let Some(manifest) = manifest.as_object() else {
        return Err(bad_request("versions.<version> must be an object"));
    };
    if manifest.get("name").and_then(Value::as_str) != Some(full.as_str()) {
        return Err(bad_request(format!("the manifest's name must be '{full}'")));
    }
    if manifest.get("version").and_then(Value::as_str) != Some(version.as_str()) {
        return Err(bad_request(format!(
            "the manifest's version must be '{version}'"
        )));
    }
    let Some(att) = &body.attachment else {
        return Err(bad_request("the document has no attachment"));
    };
    if let Some(length) = att.length {
        if length != digests.size {
            return Err(bad_request(format!(
                "the attachment's length is {length} but its data decodes to {} bytes",
                digests.size
            )));
        }
    }
    let dist = manifest.get("dist").and_then(Value::as_object);
    let ours = metadata::integrity(&digests.sha512);
    if let Some(integrity) = dist
        .and_then(|d| d.get("integrity"))
        .and_then(Value::as_str)
    {
        let sha512s: Vec<&str> = integrity
            .split_whitespace()
            .filter(|i| i.starts_with("sha512-"))
            .collect();
        if !sha512s.is_empty() && !sha512s.contains(&ours.as_str()) {
            return Err(bad_request(format!(
                "dist.integrity does not match the attachment (the attachment is {ours})"
            )));
        }
    }
    if let Some(shasum) = dist.and_then(|d| d.get("shasum")).and_then(Value::as_str) {
        if !shasum.eq_ignore_ascii_case(&digests.sha1) {
            return Err(bad_request(format!(
                "dist.shasum does not match the attachment (the attachment is {})",
                digests.sha1
            )));
        }
    }
    let inner = read_staged_package_json(&staged).await?;
    if inner.get("name").and_then(Value::as_str) != Some(full.as_str())
        || inner.get("version").and_then(Value::as_str) != Some(version.as_str())
    {
        return Err(bad_request(format!(
            "package.json in the tarball says {}@{}, but the manifest says {full}@{version}",
            inner
                .get("name")
                .and_then(Value::as_str)
                .map(metadata::printable)
                .unwrap_or_default(),
            inner
                .get("version")
                .and_then(Value::as_str)
                .map(metadata::printable)
                .unwrap_or_default(),
        )));
    }
    let mut stored: Map<String, Value> = manifest.clone();
    for key in ["dist", "_id", "_attachments", "_rev"] {
        stored.remove(key);
    }
    let deprecated = stored
        .get("deprecated")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    let request = PublishRequest {
        format: FORMAT,
        name: full.clone(),
        normalized_name: full.clone(),
        version: version.clone(),
        status: if deprecated {
            PackageStatus::Deprecated
        } else {
            PackageStatus::Default
        },
        status_override: None,
        package_metadata: Value::Object(stored),
        file_name: name.tarball_name(version),
        file_metadata: json!({}),
        duplicates: DuplicatePolicy::RejectExistingVersion {
            message: format!(
                "You cannot publish over the previously published versions: {version}."
            ),
        },
        max_size: Some(ctx.config.max_file_size),
    };
    let (package, _) = match staged.commit(&ctx.principal, project, request).await {
        Ok(done) => done,
        Err(e) if e.status() == StatusCode::CONFLICT => {
            return Err(npm_error(
                StatusCode::FORBIDDEN,
                format!("You cannot publish over the previously published versions: {version}."),
            ))
        }
        Err(e) => return Err(e),
    };
    // dist-tags: `npm publish` sends {"latest": v}, or {"<tag>": v} with --tag.
    let mut tags: Vec<&str> = body
        .dist_tags
        .iter()
        .filter(|(_, v)| v.as_str() == Some(version.as_str()))
        .map(|(k, _)| k.as_str())
        .collect();
    if tags.is_empty() {
        tags.push("latest");
    }
    for tag in tags {
        if metadata::validate_tag(tag).is_err() {
            continue;
        }
        if tag == "latest" {
            super::tags::move_latest(ctx, project, &full).await?;
        } else {
            ctx.registry
                .set_package_tag(&ctx.principal, project, &package, tag)
                .await?;
        }
    }
    Ok(packyard_core::http::json(
        StatusCode::OK,
        &json!({ "ok": true, "id": full, "version": version }),
    ))
}

/// Reads `package/package.json` from the staged tarball, bounded (`metadata.rs`).
async fn read_staged_package_json(staged: &Staged<'_>) -> Result<Map<String, Value>, ApiError> {
    let read = staged.read(None).await?;
    read_blocking(read.stream, |tgz| metadata::read_package_json(tgz))
        .await
        .map_err(BridgeError::for_stored_bytes)?
        .map_err(bad_request)
}
