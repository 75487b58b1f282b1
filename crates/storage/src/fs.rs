//! The filesystem blob store: blobs are files under `<root>/blobs/ab/cd/<sha256>`, uploads
//! are written to `<root>/tmp/` first and renamed into place (an atomic step on one
//! filesystem, so readers never see a partial blob).

use crate::hashing::{spool, TempFile};
use crate::range::{blob_rel_path, resolve, sha256_from_rel_path};
use async_trait::async_trait;
use futures_util::StreamExt;
use packyard_core::model::{BlobDigests, Millis};
use packyard_core::ports::{BlobError, BlobInfo, BlobRead, BlobStore, ByteStream, RangeRequest};
use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

/// Read size for downloads: each read is a trip to the blocking pool, so larger reads cost
/// less CPU per GiB (64 KiB spent 2.8x the CPU of nginx); 512 KiB per download is still small.
const CHUNK: usize = 512 * 1024;

/// Blobs in a local folder.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
    tmp: PathBuf,
}

impl FsBlobStore {
    /// Opens (creating when missing) the store at `root`, with its `tmp/` and `blobs/`.
    /// `tmp/` must be on the same filesystem as `blobs/` for the final rename.
    pub fn new(root: PathBuf) -> Result<Self, BlobError> {
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&tmp).map_err(BlobError::backend)?;
        std::fs::create_dir_all(root.join("blobs")).map_err(BlobError::backend)?;
        Ok(Self { root, tmp })
    }

    /// The folder the store was opened on.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn blob_path(&self, sha256: &str) -> Result<PathBuf, BlobError> {
        Ok(self.root.join(blob_rel_path(sha256)?))
    }
}

fn not_found_or_backend(e: std::io::Error) -> BlobError {
    if e.kind() == ErrorKind::NotFound {
        BlobError::NotFound
    } else {
        BlobError::backend(e)
    }
}

fn millis(t: std::time::SystemTime) -> Millis {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX),
        Err(_) => 0,
    }
}

/// Entries of a folder, or none when it vanished meanwhile (a concurrent delete).
async fn read_dir(path: &Path) -> Result<Vec<tokio::fs::DirEntry>, BlobError> {
    let mut dir = match tokio::fs::read_dir(path).await {
        Ok(d) => d,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(BlobError::backend(e)),
    };
    let mut out = Vec::new();
    while let Some(entry) = dir.next_entry().await.map_err(BlobError::backend)? {
        out.push(entry);
    }
    Ok(out)
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, body: ByteStream, limit: Option<u64>) -> Result<BlobDigests, BlobError> {
        let temp = TempFile::new_in(&self.tmp);
        let digests = spool(body, limit, temp.path()).await?;
        let target = self.blob_path(&digests.sha256)?;
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(BlobError::backend)?;
        }
        // Replaces an identical blob: the new file's mtime restarts the gc grace period
        // while the caller commits the row that references it.
        tokio::fs::rename(temp.path(), &target)
            .await
            .map_err(BlobError::backend)?;
        temp.keep();
        if let Some(parent) = target.parent() {
            // Make the rename itself durable.
            if let Ok(dir) = tokio::fs::File::open(parent).await {
                dir.sync_all().await.map_err(BlobError::backend)?;
            }
        }
        Ok(digests)
    }

    async fn get(&self, sha256: &str, range: Option<RangeRequest>) -> Result<BlobRead, BlobError> {
        let path = self.blob_path(sha256)?;
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(not_found_or_backend)?;
        let size = file.metadata().await.map_err(BlobError::backend)?.len();
        let Some(req) = range else {
            let stream = ReaderStream::with_capacity(file, CHUNK).boxed();
            return Ok(BlobRead {
                stream,
                size,
                range: None,
            });
        };
        let range = resolve(req, size)?;
        file.seek(SeekFrom::Start(range.start))
            .await
            .map_err(BlobError::backend)?;
        let len = range.end - range.start + 1;
        let stream = ReaderStream::with_capacity(file.take(len), CHUNK).boxed();
        Ok(BlobRead {
            stream,
            size,
            range: Some(range),
        })
    }

    async fn size(&self, sha256: &str) -> Result<u64, BlobError> {
        let path = self.blob_path(sha256)?;
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(not_found_or_backend)?;
        if !meta.is_file() {
            return Err(BlobError::NotFound);
        }
        Ok(meta.len())
    }

    async fn presigned_url(
        &self,
        _sha256: &str,
        _expires: Duration,
        _content_disposition: &str,
    ) -> Result<Option<String>, BlobError> {
        // A folder cannot hand out URLs: the server streams the file itself.
        Ok(None)
    }

    async fn delete(&self, sha256: &str) -> Result<(), BlobError> {
        let path = self.blob_path(sha256)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BlobError::backend(e)),
        }
    }

    async fn modified(&self, sha256: &str) -> Result<Millis, BlobError> {
        let path = self.blob_path(sha256)?;
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(not_found_or_backend)?;
        if !meta.is_file() {
            return Err(BlobError::NotFound);
        }
        let modified = meta.modified().map_err(BlobError::backend)?;
        Ok(millis(modified))
    }

    async fn list(&self) -> Result<Vec<BlobInfo>, BlobError> {
        let mut out = Vec::new();
        for a in read_dir(&self.root.join("blobs")).await? {
            for b in read_dir(&a.path()).await? {
                for blob in read_dir(&b.path()).await? {
                    let rel = format!(
                        "blobs/{}/{}/{}",
                        a.file_name().to_string_lossy(),
                        b.file_name().to_string_lossy(),
                        blob.file_name().to_string_lossy()
                    );
                    let Some(sha256) = sha256_from_rel_path(&rel) else {
                        continue;
                    };
                    let meta = match blob.metadata().await {
                        Ok(m) => m,
                        Err(e) if e.kind() == ErrorKind::NotFound => continue,
                        Err(e) => return Err(BlobError::backend(e)),
                    };
                    if !meta.is_file() {
                        continue;
                    }
                    let modified = meta.modified().map_err(BlobError::backend)?;
                    out.push(BlobInfo {
                        sha256: sha256.to_owned(),
                        size: meta.len(),
                        modified: millis(modified),
                    });
                }
            }
        }
        out.sort_by(|x, y| x.sha256.cmp(&y.sha256));
        Ok(out)
    }

    async fn check(&self) -> Result<(), BlobError> {
        let probe = TempFile::new_in(&self.tmp);
        tokio::fs::write(probe.path(), b"readiness")
            .await
            .map_err(BlobError::backend)?;
        tokio::fs::remove_file(probe.path())
            .await
            .map_err(BlobError::backend)?;
        probe.keep();
        Ok(())
    }
}
