//! `PUT api/v1/crates/new`: the publish body is read as it arrives.
//!
//! The JSON metadata is read with a bound, then the `.crate` bytes (exactly their declared
//! length) stream into the blob store. Before the row is committed the staged `.crate` is
//! read back (gzip + tar, bounded) to check its `Cargo.toml` against the metadata; a refusal
//! discards the upload (`Registry::discard`; the shared blob is left to gc). The index line only appears once the row commits, after the blob is
//! stored, so no reader, in any process, sees a version whose download is missing.

use std::sync::{Arc, OnceLock};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use packyard_core::body::{self, BridgeError};
use packyard_core::http::{content_length, json, payload_stream, PackageCaller};
use packyard_core::model::{Package, PackageStatus};
use packyard_core::policy::Action;
use packyard_core::ports::{ByteStream, DuplicatePolicy};
use packyard_core::registry::PublishRequest;
use packyard_core::{ApiError, Registry, Staged};

use crate::error::{authorize, cargo_error, cargo_shape};
use crate::metadata::{self, PublishError, MAX_METADATA_LEN, MAX_UNPACKED_LEN};
use crate::views;
use crate::{CargoConfig, FORMAT};

#[derive(Deserialize)]
pub struct ProjectPath {
    id: String,
}

pub async fn publish(
    req: HttpRequest,
    path: web::Path<ProjectPath>,
    caller: PackageCaller,
    registry: web::Data<Registry>,
    config: web::Data<CargoConfig>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let project = authorize(&registry, &principal, &path.id, Action::PublishPackage).await?;
    let limit = config.max_file_size;
    // Refuse before reading a byte when the client declares too much.
    if let Some(len) = content_length(&req) {
        if len > limit + u64::from(MAX_METADATA_LEN) + 8 {
            return Err(PublishError::TooLarge { size: len, limit }.into());
        }
    }
    let mut body = Framed {
        stream: payload_stream(body),
        buf: BytesMut::new(),
    };
    let json_len = metadata::metadata_len(body.read4().await?)?;
    let meta = metadata::parse_metadata(&body.read_exact(json_len as usize).await?)?;
    let crate_len = metadata::crate_len(body.read4().await?, limit)?;
    let normalized = metadata::normalize_name(&meta.name);

    // Refuse what would be refused anyway before storing a byte. (The catalog decides
    // races: `RejectExistingVersion` runs inside the publish transaction.)
    let existing = registry
        .packages()
        .packages_by_name(project.id, FORMAT.0, &normalized)
        .await?;
    let duplicate = duplicate_message(&meta.name, &meta.vers, &project.full_path);
    check_existing(&existing, &meta.name, &meta.vers, &duplicate)?;

    let (stream, framing) = body.into_exact(crate_len);
    let staged = match registry.stage(stream, Some(crate_len)).await {
        Ok(staged) => staged,
        Err(e) => {
            return Err(match framing.get() {
                Some(f) => f.clone().into(),
                None => cargo_shape(e),
            })
        }
    };
    // A refusal from here on drops `staged`, which discards the upload.
    verify_crate(&staged, &meta.name, &meta.vers).await?;
    let entry = metadata::index_entry(&meta, staged.sha256());
    let request = PublishRequest {
        format: FORMAT,
        name: meta.name.clone(),
        normalized_name: normalized,
        version: meta.vers.clone(),
        status: PackageStatus::Default,
        status_override: None,
        package_metadata: json!({
            "index": entry,
            "description": meta.description,
            "license": meta.license,
            "repository": meta.repository,
            "homepage": meta.homepage,
            "documentation": meta.documentation,
            "keywords": meta.keywords,
        }),
        file_name: format!("{}-{}.crate", meta.name, meta.vers),
        file_metadata: json!({}),
        duplicates: DuplicatePolicy::RejectExistingVersion {
            message: duplicate.clone(),
        },
        max_size: Some(crate_len),
    };
    match staged.commit(&principal, &project, request).await {
        Ok(_) => Ok(json(
            StatusCode::OK,
            &views::PublishWarnings {
                warnings: views::Warnings::default(),
            },
        )),
        Err(e) if e.status() == StatusCode::CONFLICT => {
            Err(cargo_error(StatusCode::CONFLICT, duplicate))
        }
        Err(e) => Err(cargo_shape(e)),
    }
}

fn duplicate_message(name: &str, version: &str, project: &str) -> String {
    format!(
        "crate `{name}` version `{version}` already exists in {project} (yanked versions \
         count too); bump the version in Cargo.toml and publish again"
    )
}

/// One name per crate however it is spelled, and one version whatever its build metadata
/// (`1.0.0+a` and `1.0.0+b` are the same version to cargo).
fn check_existing(
    existing: &[Package],
    name: &str,
    version: &str,
    duplicate: &str,
) -> Result<(), ApiError> {
    if let Some(other) = existing.iter().find(|p| p.name != name) {
        return Err(cargo_error(
            StatusCode::BAD_REQUEST,
            format!(
                "crate `{name}` is the same name as the existing crate `{}` (names are \
                 compared ignoring case, with `-` and `_` the same); publish it as `{}`",
                other.name, other.name
            ),
        ));
    }
    let wanted = metadata::parse_version(version)?;
    let same = |v: &str| {
        semver::Version::parse(v).is_ok_and(|v| {
            (&v.major, &v.minor, &v.patch, &v.pre)
                == (&wanted.major, &wanted.minor, &wanted.patch, &wanted.pre)
        })
    };
    if existing.iter().any(|p| same(&p.version)) {
        return Err(cargo_error(StatusCode::CONFLICT, duplicate));
    }
    Ok(())
}

/// The request body, read in order: lengths and JSON into a small buffer, then the `.crate`.
struct Framed {
    stream: ByteStream,
    buf: BytesMut,
}

fn ended_early() -> PublishError {
    PublishError::Framing("the body ended before its declared lengths".into())
}

impl Framed {
    async fn fill(&mut self, n: usize) -> Result<(), PublishError> {
        while self.buf.len() < n {
            match self.stream.next().await {
                Some(Ok(chunk)) => self.buf.extend_from_slice(&chunk),
                Some(Err(_)) | None => return Err(ended_early()),
            }
        }
        Ok(())
    }

    async fn read4(&mut self) -> Result<[u8; 4], PublishError> {
        self.fill(4).await?;
        let b = self.buf.split_to(4);
        Ok([b[0], b[1], b[2], b[3]])
    }

    async fn read_exact(&mut self, n: usize) -> Result<Bytes, PublishError> {
        self.fill(n).await?;
        Ok(self.buf.split_to(n).freeze())
    }

    /// The next `len` bytes as a stream that fails if the body ends sooner or goes on
    /// after them; `framing` says which, for the error shown to the user.
    fn into_exact(self, len: u64) -> (ByteStream, Arc<OnceLock<PublishError>>) {
        let framing = Arc::new(OnceLock::new());
        let state = Exact {
            inner: self.stream,
            leftover: Some(self.buf.freeze()).filter(|b| !b.is_empty()),
            remaining: len,
            framing: framing.clone(),
            done: false,
        };
        let stream = futures_util::stream::unfold(state, |mut s| async move {
            if s.done {
                return None;
            }
            if s.remaining == 0 {
                s.done = true;
                let trailing = match s.leftover.take() {
                    Some(_) => true,
                    None => loop {
                        match s.inner.next().await {
                            Some(Ok(c)) if c.is_empty() => continue,
                            Some(Ok(_)) => break true,
                            Some(Err(_)) | None => break false,
                        }
                    },
                };
                if !trailing {
                    return None;
                }
                let _ = s.framing.set(PublishError::Framing(
                    "the body goes on after the .crate file: its declared length is wrong".into(),
                ));
                let err = std::io::Error::new(std::io::ErrorKind::InvalidData, "trailing bytes");
                return Some((Err(err), s));
            }
            let next = match s.leftover.take() {
                Some(b) => Some(Ok(b)),
                None => s.inner.next().await,
            };
            match next {
                Some(Ok(mut b)) => {
                    if b.len() as u64 > s.remaining {
                        s.leftover = Some(b.split_off(s.remaining as usize));
                    }
                    s.remaining -= b.len() as u64;
                    Some((Ok(b), s))
                }
                other => {
                    s.done = true;
                    let _ = s.framing.set(PublishError::Framing(
                        "the body ended before the end of the .crate file".into(),
                    ));
                    let err = match other {
                        Some(Err(e)) => e,
                        _ => std::io::Error::from(std::io::ErrorKind::UnexpectedEof),
                    };
                    Some((Err(err), s))
                }
            }
        });
        (stream.boxed(), framing)
    }
}

struct Exact {
    inner: ByteStream,
    leftover: Option<Bytes>,
    remaining: u64,
    framing: Arc<OnceLock<PublishError>>,
    done: bool,
}

/// Reads the staged `.crate` back and checks it on the blocking pool, fed through a small
/// channel (`packyard_core::body::read_blocking`), so memory stays bounded whatever the size.
async fn verify_crate(staged: &Staged<'_>, name: &str, version: &str) -> Result<(), ApiError> {
    let read = staged.read(None).await?;
    let (name, version) = (name.to_owned(), version.to_owned());
    body::read_blocking(read.stream, move |reader| {
        metadata::read_crate(reader, &name, &version, MAX_UNPACKED_LEN)
    })
    .await
    .map_err(BridgeError::for_stored_bytes)??;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The body as a stream of chunks of `size` bytes (1 makes every length straddle chunks).
    fn framed(body: &[u8], size: usize) -> Framed {
        let chunks: Vec<Result<Bytes, std::io::Error>> = body
            .chunks(size)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        Framed {
            stream: futures_util::stream::iter(chunks).boxed(),
            buf: BytesMut::new(),
        }
    }

    fn body(json: &[u8], krate: &[u8], declared: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&(json.len() as u32).to_le_bytes());
        b.extend_from_slice(json);
        b.extend_from_slice(&declared.to_le_bytes());
        b.extend_from_slice(krate);
        b
    }

    async fn read(mut f: Framed) -> (Bytes, Result<Vec<u8>, Option<PublishError>>) {
        let len = metadata::metadata_len(f.read4().await.unwrap()).unwrap();
        let json = f.read_exact(len as usize).await.unwrap();
        let crate_len = metadata::crate_len(f.read4().await.unwrap(), 1 << 20).unwrap();
        let (mut stream, framing) = f.into_exact(crate_len);
        let mut got = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(c) => got.extend_from_slice(&c),
                Err(_) => return (json, Err(framing.get().cloned())),
            }
        }
        (json, Ok(got))
    }

    #[tokio::test]
    async fn the_crate_part_streams_exactly_whatever_the_chunking() {
        let krate: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        for size in [1, 3, 7, 64, 4096, 1 << 20] {
            let (json, got) = read(framed(&body(b"{}", &krate, 5000), size)).await;
            assert_eq!(&json[..], b"{}");
            assert_eq!(got.unwrap(), krate, "chunks of {size}");
        }
    }

    #[tokio::test]
    async fn lying_lengths_are_caught_both_ways() {
        let krate = vec![1u8; 100];
        for size in [1, 10, 1000] {
            let (_, short) = read(framed(&body(b"{}", &krate, 101), size)).await;
            let err = short.unwrap_err().expect("framing error").to_string();
            assert!(err.contains("ended before"), "{err}");
            let (_, long) = read(framed(&body(b"{}", &krate, 99), size)).await;
            let err = long.unwrap_err().expect("framing error").to_string();
            assert!(err.contains("goes on after"), "{err}");
        }
    }

    #[tokio::test]
    async fn a_body_cut_inside_the_metadata_is_refused() {
        let full = body(br#"{"name":"x"}"#, b"abc", 3);
        let mut f = framed(&full[..8], 2);
        let len = metadata::metadata_len(f.read4().await.unwrap()).unwrap();
        assert!(f.read_exact(len as usize).await.is_err());
    }

    #[test]
    fn build_metadata_and_other_spellings_are_the_same_crate_version() {
        let pkg = |name: &str, version: &str| Package {
            id: packyard_core::model::PackageId(1),
            project_id: packyard_core::model::ProjectId(1),
            format: "cargo".into(),
            name: name.into(),
            normalized_name: metadata::normalize_name(name),
            version: version.into(),
            status: PackageStatus::Default,
            metadata: json!({}),
            created_at: 0,
            updated_at: 0,
            last_downloaded_at: None,
        };
        let existing = [pkg("foo-bar", "1.0.0+a")];
        let conflict = |name: &str, v: &str| {
            check_existing(&existing, name, v, "dup")
                .unwrap_err()
                .status()
        };
        assert_eq!(conflict("foo-bar", "1.0.0+b"), StatusCode::CONFLICT);
        assert_eq!(conflict("foo-bar", "1.0.0"), StatusCode::CONFLICT);
        assert_eq!(conflict("Foo_Bar", "2.0.0"), StatusCode::BAD_REQUEST);
        assert!(check_existing(&existing, "foo-bar", "1.0.1", "dup").is_ok());
        assert!(check_existing(&existing, "foo-bar", "1.0.0-rc.1", "dup").is_ok());
    }
}
