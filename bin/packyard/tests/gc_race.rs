//! `packyard gc` against an upload of the same bytes that lands while gc runs.
//!
//! gc lists every blob first and decides per blob later, so on a large store its listing
//! is minutes old by the time it reaches a blob. A publish of the same bytes in between
//! re-writes the blob (a fresh age) and is about to commit its row: gc must not delete it.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use packyard_core::model::{BlobDigests, Millis};
use packyard_core::ports::{BlobError, BlobInfo, BlobRead, BlobStore, ByteStream, RangeRequest};
use packyard_core::registry::{Registry, RegistryConfig};
use packyard_db::DbCatalog;
use packyard_storage::FsBlobStore;

/// A folder store whose listing is the one taken at `freeze`, as a long gc run sees it.
struct ListedEarlier {
    inner: FsBlobStore,
    frozen: Mutex<Option<Vec<BlobInfo>>>,
}

impl ListedEarlier {
    async fn freeze(&self) {
        let now = self.inner.list().await.unwrap();
        *self.frozen.lock().unwrap() = Some(now);
    }
}

#[async_trait]
impl BlobStore for ListedEarlier {
    async fn put(&self, body: ByteStream, limit: Option<u64>) -> Result<BlobDigests, BlobError> {
        self.inner.put(body, limit).await
    }
    async fn get(&self, sha256: &str, range: Option<RangeRequest>) -> Result<BlobRead, BlobError> {
        self.inner.get(sha256, range).await
    }
    async fn size(&self, sha256: &str) -> Result<u64, BlobError> {
        self.inner.size(sha256).await
    }
    async fn presigned_url(
        &self,
        sha256: &str,
        expires: Duration,
        content_disposition: &str,
    ) -> Result<Option<String>, BlobError> {
        self.inner
            .presigned_url(sha256, expires, content_disposition)
            .await
    }
    async fn delete(&self, sha256: &str) -> Result<(), BlobError> {
        self.inner.delete(sha256).await
    }
    async fn list(&self) -> Result<Vec<BlobInfo>, BlobError> {
        match self.frozen.lock().unwrap().clone() {
            Some(list) => Ok(list),
            None => Err(BlobError::NotFound),
        }
    }
    async fn modified(&self, sha256: &str) -> Result<Millis, BlobError> {
        self.inner.modified(sha256).await
    }
    async fn check(&self) -> Result<(), BlobError> {
        self.inner.check().await
    }
}

fn body(bytes: &'static [u8]) -> ByteStream {
    futures_util::stream::iter(vec![Ok(bytes::Bytes::from_static(bytes))]).boxed()
}

#[tokio::test]
async fn gc_keeps_a_blob_that_an_upload_rewrote_after_gc_listed_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("c.sqlite3").display());
    let catalog = DbCatalog::connect(&url, 2).unwrap();
    catalog.migrate().await.unwrap();
    let blobs = Arc::new(ListedEarlier {
        inner: FsBlobStore::new(dir.path().join("blobs")).unwrap(),
        frozen: Mutex::new(None),
    });
    let registry = Registry::new(Arc::new(catalog), blobs.clone(), RegistryConfig::default());

    // An orphan from a day ago: its package was deleted, gc may take it.
    let old = registry.stage(body(b"same bytes"), None).await.unwrap();
    let old_sha256 = old.sha256().to_owned();
    drop(old);
    let file = std::fs::read_dir(dir.path().join("blobs/blobs"))
        .unwrap()
        .flat_map(|a| std::fs::read_dir(a.unwrap().path()).unwrap())
        .flat_map(|b| std::fs::read_dir(b.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .find(|p| p.ends_with(&old_sha256))
        .unwrap();
    let day_ago = std::time::SystemTime::now() - Duration::from_secs(24 * 3600);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(day_ago)
        .unwrap();
    blobs.freeze().await;

    // gc has listed it; then a publish of the same bytes stages, about to commit its row.
    let staged = registry.stage(body(b"same bytes"), None).await.unwrap();
    assert_eq!(staged.sha256(), old_sha256);
    let report = registry.gc(Duration::from_secs(3600)).await.unwrap();
    assert_eq!(
        report.deleted, 0,
        "gc deleted a blob an upload had just re-written"
    );
    assert!(registry.read_blob(staged.sha256(), None).await.is_ok());

    // Left alone for a day again, the orphan goes.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(day_ago)
        .unwrap();
    blobs.freeze().await;
    let report = registry.gc(Duration::from_secs(3600)).await.unwrap();
    assert_eq!(report.deleted, 1);
    assert!(registry.read_blob(staged.sha256(), None).await.is_err());
}
