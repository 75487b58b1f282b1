//! The S3 blob store, over rust-s3, for AWS S3 and S3-compatible servers (MinIO, Ceph,
//! Garage). Blobs are objects `{prefix}blobs/ab/cd/<sha256>`.
//!
//! An upload is first spooled to a local file while it is hashed and its limit enforced;
//! only a complete upload is sent to S3 (`put_object_stream`, multipart above 8 MiB with a
//! bounded number of parts in flight), so a cut-off client never leaves an object behind
//! and memory stays bounded. Downloads stream (`get_object_stream`); ranges send a signed
//! `Range` header. Missing keys come back from rust-s3 as `HttpFailWithBody(404, ..)`.
//! API: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html>

use crate::hashing::{spool, TempFile};
use crate::range::{blob_rel_path, resolve, sha256_from_rel_path};
use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt};
use packyard_core::model::{BlobDigests, Millis};
use packyard_core::ports::{BlobError, BlobInfo, BlobRead, BlobStore, ByteStream, RangeRequest};
use s3::creds::Credentials;
use s3::error::S3Error;
use s3::{Bucket, Region};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// Where and how to reach the bucket.
#[derive(Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// `https://s3.eu-west-1.amazonaws.com`, `http://minio:9000`, ...
    pub endpoint: String,
    /// Signing region (`us-east-1` for most S3-compatible servers).
    pub region: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    /// `http://endpoint/bucket/key` instead of `http://bucket.endpoint/key`; needed by most
    /// S3-compatible servers.
    pub path_style: bool,
    /// Put before every key, e.g. `packyard/` (a `/` is added when missing).
    pub prefix: String,
    /// Local folder for uploads in flight (each upload is spooled here before it is sent).
    pub spool_dir: PathBuf,
    /// Parts of 8 MiB uploaded at once; memory per upload is about this times 8 MiB.
    pub max_concurrent_chunks: usize,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            region: "us-east-1".to_owned(),
            bucket: String::new(),
            access_key: String::new(),
            secret_key: String::new(),
            path_style: true,
            prefix: String::new(),
            spool_dir: std::env::temp_dir().join("packyard-spool"),
            max_concurrent_chunks: 2,
        }
    }
}

impl std::fmt::Debug for S3Config {
    // The secret key must not end up in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("path_style", &self.path_style)
            .field("prefix", &self.prefix)
            .field("spool_dir", &self.spool_dir)
            .field("max_concurrent_chunks", &self.max_concurrent_chunks)
            .finish()
    }
}

/// Blobs in an S3 bucket.
pub struct S3BlobStore {
    bucket: Box<Bucket>,
    prefix: String,
    spool_dir: PathBuf,
    max_concurrent_chunks: usize,
}

impl std::fmt::Debug for S3BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3BlobStore")
            .field("bucket", &self.bucket.name())
            .field("url", &self.bucket.url())
            .field("prefix", &self.prefix)
            .field("spool_dir", &self.spool_dir)
            .finish()
    }
}

/// Not-found for a 404, a backend error otherwise.
fn map_s3(e: S3Error) -> BlobError {
    match e {
        S3Error::HttpFailWithBody(404, _) => BlobError::NotFound,
        e => BlobError::backend(e),
    }
}

impl S3BlobStore {
    /// Builds the client and creates `spool_dir`. Nothing is sent yet: use
    /// [`BlobStore::check`] to test the connection and credentials.
    pub fn new(config: S3Config) -> Result<Self, BlobError> {
        let region = Region::Custom {
            region: config.region,
            endpoint: config.endpoint.trim_end_matches('/').to_owned(),
        };
        let credentials = Credentials::new(
            Some(&config.access_key),
            Some(&config.secret_key),
            None,
            None,
            None,
        )
        .map_err(BlobError::backend)?;
        let mut bucket = Bucket::new(&config.bucket, region, credentials).map_err(map_s3)?;
        if config.path_style {
            bucket = bucket.with_path_style();
        }
        std::fs::create_dir_all(&config.spool_dir).map_err(BlobError::backend)?;
        let mut prefix = config.prefix.trim_start_matches('/').to_owned();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(Self {
            bucket,
            prefix,
            spool_dir: config.spool_dir,
            max_concurrent_chunks: config.max_concurrent_chunks.max(1),
        })
    }

    fn key(&self, sha256: &str) -> Result<String, BlobError> {
        Ok(format!("{}{}", self.prefix, blob_rel_path(sha256)?))
    }

    /// Size of the object at `key`.
    async fn head_size(&self, key: &str) -> Result<u64, BlobError> {
        let (head, _) = self.bucket.head_object(key).await.map_err(map_s3)?;
        let len = head.content_length.ok_or_else(|| {
            BlobError::backend(std::io::Error::other("HEAD without Content-Length"))
        })?;
        u64::try_from(len).map_err(BlobError::backend)
    }
}

fn s3_stream(stream: s3::request::DataStream) -> ByteStream {
    stream.map_err(std::io::Error::other).boxed()
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, body: ByteStream, limit: Option<u64>) -> Result<BlobDigests, BlobError> {
        // Removed on every path out of this function, success included.
        let temp = TempFile::new_in(&self.spool_dir);
        let digests = spool(body, limit, temp.path()).await?;
        let key = self.key(&digests.sha256)?;
        let mut file = tokio::fs::File::open(temp.path())
            .await
            .map_err(BlobError::backend)?;
        // Rewriting an existing object refreshes its last-modified time, which restarts
        // the gc grace period while the caller commits its row.
        let response = self
            .bucket
            .put_object_stream_builder(&key)
            .with_content_type("application/octet-stream")
            .with_max_concurrent_chunks(self.max_concurrent_chunks)
            .execute_stream(&mut file)
            .await
            .map_err(BlobError::backend)?;
        if !(200..300).contains(&response.status_code()) {
            return Err(BlobError::backend(std::io::Error::other(format!(
                "S3 answered {} to the upload of {key}",
                response.status_code()
            ))));
        }
        drop(file);
        drop(temp);
        Ok(digests)
    }

    async fn get(&self, sha256: &str, range: Option<RangeRequest>) -> Result<BlobRead, BlobError> {
        let key = self.key(sha256)?;
        let size = self.head_size(&key).await?;
        let Some(req) = range else {
            let response = self.bucket.get_object_stream(&key).await.map_err(map_s3)?;
            return Ok(BlobRead {
                stream: s3_stream(response.bytes),
                size,
                range: None,
            });
        };
        let range = resolve(req, size)?;
        // rust-s3's `get_object_range` buffers the whole part; a signed `Range` header on
        // the streaming GET keeps memory constant.
        let mut headers = self.bucket.extra_headers().clone();
        let value = http::HeaderValue::from_str(&format!("bytes={}-{}", range.start, range.end))
            .map_err(BlobError::backend)?;
        headers.insert(http::header::RANGE, value);
        let ranged = self.bucket.with_extra_headers(headers).map_err(map_s3)?;
        let response = ranged.get_object_stream(&key).await.map_err(map_s3)?;
        if response.status_code != 206 {
            // A server that ignored the range would send the whole blob as the part.
            return Err(BlobError::backend(std::io::Error::other(format!(
                "S3 answered {} instead of 206 to a ranged GET of {key}",
                response.status_code
            ))));
        }
        Ok(BlobRead {
            stream: s3_stream(response.bytes),
            size,
            range: Some(range),
        })
    }

    async fn size(&self, sha256: &str) -> Result<u64, BlobError> {
        let key = self.key(sha256)?;
        self.head_size(&key).await
    }

    async fn presigned_url(
        &self,
        sha256: &str,
        expires: Duration,
        content_disposition: &str,
    ) -> Result<Option<String>, BlobError> {
        let key = self.key(sha256)?;
        // SigV4 presigned URLs live from 1 second to 7 days.
        let secs = expires.as_secs().clamp(1, 7 * 24 * 3600);
        let secs = u32::try_from(secs).unwrap_or(7 * 24 * 3600);
        let mut queries = HashMap::new();
        queries.insert(
            "response-content-disposition".to_owned(),
            content_disposition.to_owned(),
        );
        let url = self
            .bucket
            .presign_get(&key, secs, Some(queries))
            .await
            .map_err(BlobError::backend)?;
        Ok(Some(url))
    }

    async fn delete(&self, sha256: &str) -> Result<(), BlobError> {
        let key = self.key(sha256)?;
        match self.bucket.delete_object(&key).await {
            Ok(_) => Ok(()),
            Err(S3Error::HttpFailWithBody(404, _)) => Ok(()),
            Err(e) => Err(BlobError::backend(e)),
        }
    }

    async fn modified(&self, sha256: &str) -> Result<Millis, BlobError> {
        let key = self.key(sha256)?;
        let (head, _) = self.bucket.head_object(&key).await.map_err(map_s3)?;
        let stamp = head.last_modified.ok_or_else(|| {
            BlobError::backend(std::io::Error::other("HEAD without Last-Modified"))
        })?;
        // HEAD answers an HTTP date; some servers answer RFC 3339 as the listing does.
        chrono::DateTime::parse_from_rfc2822(&stamp)
            .or_else(|_| chrono::DateTime::parse_from_rfc3339(&stamp))
            .map(|t| t.timestamp_millis())
            .map_err(BlobError::backend)
    }

    async fn list(&self) -> Result<Vec<BlobInfo>, BlobError> {
        let pages = self
            .bucket
            .list(format!("{}blobs/", self.prefix), None)
            .await
            .map_err(BlobError::backend)?;
        let mut out = Vec::new();
        for object in pages.into_iter().flat_map(|page| page.contents) {
            let Some(rel) = object.key.strip_prefix(&self.prefix) else {
                continue;
            };
            let Some(sha256) = sha256_from_rel_path(rel) else {
                continue;
            };
            let modified: Millis = match chrono::DateTime::parse_from_rfc3339(&object.last_modified)
            {
                Ok(t) => t.timestamp_millis(),
                Err(e) => {
                    // Leaving it out keeps gc from deleting a blob whose age is unknown.
                    tracing::warn!(key = %object.key, last_modified = %object.last_modified, error = %e,
                        "S3 object with an unreadable LastModified left out of the blob list");
                    continue;
                }
            };
            out.push(BlobInfo {
                sha256: sha256.to_owned(),
                size: object.size,
                modified,
            });
        }
        out.sort_by(|x, y| x.sha256.cmp(&y.sha256));
        Ok(out)
    }

    async fn check(&self) -> Result<(), BlobError> {
        let key = format!("{}tmp/readiness-check", self.prefix);
        self.bucket
            .put_object(&key, b"readiness")
            .await
            .map_err(BlobError::backend)?;
        self.bucket
            .delete_object(&key)
            .await
            .map_err(BlobError::backend)?;
        Ok(())
    }
}
