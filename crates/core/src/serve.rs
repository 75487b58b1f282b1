//! File downloads for every format: finding the newest downloadable file of a version and
//! answering it (conditional GET and HEAD through [`crate::conditional`], a presigned
//! redirect or a stream, `Range`), so that each format only says where its file is and
//! how its client wants a 404 worded.
//!
//! - [`Registry::newest_downloadable_file`]: the newest file called so of one version in one
//!   project, among the statuses the format serves ([`Downloadable`]).
//! - [`serve_file`]: answers one file.
//! - [`serve_newest`]: both, with the format's 404.

use actix_web::body::SizedStream;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};

use crate::conditional::{self, HeadBody};
use crate::error::ApiError;
use crate::http::parse_range;
use crate::model::{Package, PackageFile, PackageStatus, ProjectId};
use crate::registry::{content_disposition, Download, Registry};

/// Which package statuses a format serves files of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Downloadable {
    /// Every downloadable status ([`PackageStatus::downloadable`]): a hidden package's file
    /// stays reachable by its URL (generic, PyPI, Cargo, as on GitLab).
    All,
    /// Downloadable and answered by a single GET ([`PackageStatus::detailed`]): npm serves
    /// no tarball of a version its packument does not list.
    Listed,
}

impl Downloadable {
    /// The statuses, for the catalog query.
    pub fn statuses(self) -> Vec<PackageStatus> {
        PackageStatus::ALL
            .into_iter()
            .filter(|s| s.downloadable() && (self == Downloadable::All || s.detailed()))
            .collect()
    }
}

/// Where one file is: a version of a package name (as the format normalizes it) in one
/// project, and the file's name.
#[derive(Debug, Clone, Copy)]
pub struct FileCoordinates<'a> {
    pub project: ProjectId,
    pub format: &'a str,
    pub normalized_name: &'a str,
    pub version: &'a str,
    pub file_name: &'a str,
}

impl Registry {
    /// The newest file at `at` whose package is in one of the statuses of `which` (when a
    /// version was published again, the newest package wins), or `None`. The caller has
    /// authorized the read of `at.project`.
    pub async fn newest_downloadable_file(
        &self,
        at: &FileCoordinates<'_>,
        which: Downloadable,
    ) -> Result<Option<(Package, PackageFile)>, ApiError> {
        Ok(self
            .packages()
            .newest_package_file(
                at.project,
                at.format,
                at.normalized_name,
                at.version,
                at.file_name,
                &which.statuses(),
            )
            .await?)
    }
}

/// Finds the newest downloadable file at `at` and answers it with [`serve_file`]; `missing`
/// is the format's 404 (in its client's error shape) when there is none.
pub async fn serve_newest(
    registry: &Registry,
    req: &HttpRequest,
    at: &FileCoordinates<'_>,
    which: Downloadable,
    content_type: &str,
    missing: impl FnOnce() -> ApiError,
) -> Result<HttpResponse, ApiError> {
    match registry.newest_downloadable_file(at, which).await? {
        Some((package, file)) => serve_file(registry, req, &package, &file, content_type).await,
        None => Err(missing()),
    }
}

/// Answers a GET or HEAD of `file`. Its validators are the strong ETag `"<sha256>"` and its
/// upload time as `Last-Modified`: 304 when the request's preconditions match, the headers
/// alone for a HEAD (no blob is opened and no download is recorded), else
/// [`Registry::download`]: a presigned redirect when configured, or the stream (206 for a
/// single range), with the checksum headers GitLab sends.
pub async fn serve_file(
    registry: &Registry,
    req: &HttpRequest,
    package: &Package,
    file: &PackageFile,
    content_type: &str,
) -> Result<HttpResponse, ApiError> {
    let etag = format!("\"{}\"", file.sha256);
    let last_modified = conditional::http_date(file.created_at);
    let disposition = content_disposition(
        &percent_encoding::percent_decode_str(&file.file_name).decode_utf8_lossy(),
    );
    let headers = |status: StatusCode| {
        let mut b = HttpResponse::build(status);
        b.content_type(content_type.to_owned())
            .insert_header((header::ETAG, etag.clone()))
            .insert_header((header::ACCEPT_RANGES, "bytes"))
            .insert_header((header::CONTENT_DISPOSITION, disposition.clone()))
            .insert_header(("X-Checksum-SHA256", file.sha256.clone()))
            .insert_header(("X-Checksum-SHA1", file.sha1.clone()))
            .insert_header(("X-Checksum-MD5", file.md5.clone()));
        if let Some(lm) = &last_modified {
            b.insert_header((header::LAST_MODIFIED, lm.clone()));
        }
        b
    };
    if conditional::is_head(req)
        || conditional::not_modified(req, Some(&etag), Some(file.created_at))
    {
        return Ok(conditional::respond(
            req,
            headers(StatusCode::OK),
            Some(&etag),
            Some(file.created_at),
            HeadBody(u64::try_from(file.size).ok()),
        ));
    }
    match registry.download(package, file, parse_range(req)).await? {
        Download::Redirect(url) => Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, crate::redirect::location(&url)))
            .finish()),
        Download::Stream(read) => {
            let mut resp = match read.range {
                Some(r) => {
                    let mut b = headers(StatusCode::PARTIAL_CONTENT);
                    b.insert_header((
                        header::CONTENT_RANGE,
                        format!("bytes {}-{}/{}", r.start, r.end, read.size),
                    ));
                    b
                }
                None => headers(StatusCode::OK),
            };
            let len = read.range.map(|r| r.end - r.start + 1).unwrap_or(read.size);
            Ok(resp.body(SizedStream::new(len, read.stream)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_downloads_leave_out_hidden_packages() {
        let all = Downloadable::All.statuses();
        let listed = Downloadable::Listed.statuses();
        assert!(all.contains(&PackageStatus::Hidden));
        assert!(!listed.contains(&PackageStatus::Hidden));
        for s in [PackageStatus::Default, PackageStatus::Deprecated] {
            assert!(all.contains(&s) && listed.contains(&s), "{s:?}");
        }
        for s in PackageStatus::ALL.into_iter().filter(|s| !s.downloadable()) {
            assert!(!all.contains(&s), "{s:?}");
        }
    }
}
