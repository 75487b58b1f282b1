//! One pass over an upload: the body is written to a temporary file while its size and
//! SHA-256, SHA-1, MD5 and SHA-512 are computed (the digests package managers check:
//! PyPI and npm use SHA-256/SHA-512, Maven SHA-1/MD5). Shared by every store, so the
//! limit and cut-off rules are the same everywhere.

use futures_util::StreamExt;
use md5::Md5;
use packyard_core::model::BlobDigests;
use packyard_core::ports::{BlobError, ByteStream};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncWriteExt, BufWriter};

/// Size and digests of bytes fed in order.
#[derive(Default)]
pub struct Digester {
    size: u64,
    sha256: Sha256,
    sha1: Sha1,
    md5: Md5,
    sha512: Sha512,
}

impl Digester {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.size += chunk.len() as u64;
        self.sha256.update(chunk);
        self.sha1.update(chunk);
        self.md5.update(chunk);
        self.sha512.update(chunk);
    }

    /// Bytes fed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn finish(self) -> BlobDigests {
        BlobDigests {
            size: self.size,
            sha256: hex::encode(self.sha256.finalize()),
            sha1: hex::encode(self.sha1.finalize()),
            md5: hex::encode(self.md5.finalize()),
            sha512: hex::encode(self.sha512.finalize()),
        }
    }
}

/// A temporary file that is removed when dropped, unless [`TempFile::keep`] was called.
///
/// Removal on drop also covers a `put` future that is cancelled (the client hung up and
/// the server dropped the request), so no half-written file is left behind.
pub struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    /// A fresh name `<dir>/<uuid>.part`; nothing is created yet.
    pub fn new_in(dir: &Path) -> Self {
        Self {
            path: dir.join(format!("{}.part", uuid::Uuid::new_v4())),
            armed: true,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file was moved away or must stay: do not remove it.
    pub fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            // A plain syscall: fine on an async worker, and drop cannot await.
            if let Err(e) = std::fs::remove_file(&self.path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(path = %self.path.display(), error = %e, "cannot remove temporary blob file");
                }
            }
        }
    }
}

/// Writes `body` to `path` (created, must not exist) while hashing it, then flushes and
/// fsyncs the file.
///
/// Errors: `TooLarge` as soon as more than `limit` bytes arrived; `Interrupted` when the
/// body yields an error; `Backend` when the disk fails. The caller owns `path` (a
/// [`TempFile`]) and removes it on error.
pub async fn spool(
    mut body: ByteStream,
    limit: Option<u64>,
    path: &Path,
) -> Result<BlobDigests, BlobError> {
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await
        .map_err(BlobError::backend)?;
    let mut out = BufWriter::with_capacity(256 * 1024, file);
    let mut digester = Digester::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(BlobError::Interrupted)?;
        if let Some(limit) = limit {
            if digester.size() + chunk.len() as u64 > limit {
                return Err(BlobError::TooLarge { limit });
            }
        }
        digester.update(&chunk);
        out.write_all(&chunk).await.map_err(BlobError::backend)?;
    }
    out.flush().await.map_err(BlobError::backend)?;
    let file = out.into_inner();
    file.sync_all().await.map_err(BlobError::backend)?;
    Ok(digester.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_hello_match_known_vectors() {
        let mut d = Digester::new();
        d.update(b"hel");
        d.update(b"lo");
        let got = d.finish();
        assert_eq!(got.size, 5);
        assert_eq!(
            got.sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(got.sha1, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
        assert_eq!(got.md5, "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(
            got.sha512,
            "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7\
             2323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043"
        );
    }
}
