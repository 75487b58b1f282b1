//! Derived documents (index pages, packuments, index files), cached per process and keyed by
//! the catalog revisions they were built from.
//!
//! A handler first asks the catalog for the [`Revision`]s of what the document covers (one
//! indexed query), then calls [`DocumentCache::get_or_build`]. The key mixes the document's
//! identity with those revisions, so any change made by any process yields a new key: a
//! cache entry can be missing, never stale. Entries are weighed by their size and evicted
//! least-recently-used beyond the capacity.

use std::future::Future;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::conditional;
use crate::error::ApiError;
use crate::model::{Millis, Revision};

/// A built document, shared by every request that asks for the same key and revisions.
#[derive(Debug)]
pub struct Document {
    pub body: Bytes,
    pub content_type: String,
    /// Strong ETag, quoted.
    pub etag: String,
    /// The newest change among the revisions, for `Last-Modified`.
    pub last_modified: Option<Millis>,
    /// The response headers, made once per document rather than once per request.
    headers: Headers,
}

#[derive(Debug)]
struct Headers {
    etag: HeaderValue,
    content_type: HeaderValue,
    last_modified: Option<HeaderValue>,
}

impl Document {
    pub fn new(
        body: Bytes,
        content_type: String,
        etag: String,
        last_modified: Option<Millis>,
    ) -> Result<Document, ApiError> {
        let value = |s: &str| HeaderValue::from_str(s).map_err(ApiError::internal);
        let headers = Headers {
            etag: value(&etag)?,
            content_type: value(&content_type)?,
            last_modified: last_modified
                .and_then(conditional::http_date)
                .map(|t| value(&t))
                .transpose()?,
        };
        Ok(Document {
            body,
            content_type,
            etag,
            last_modified,
            headers,
        })
    }
}

impl Document {
    /// A document built per request (not cached), identified by its bytes: the strong ETag
    /// is their digest, and there is no `Last-Modified`. For small documents that depend on
    /// more than catalog revisions (Cargo's `config.json` depends on the access policy).
    pub fn of_bytes(body: Bytes, content_type: &str) -> Result<Document, ApiError> {
        let digest = hex::encode(&Sha256::digest(&body)[..16]);
        Document::new(body, content_type.to_owned(), format!("\"{digest}\""), None)
    }
}

#[derive(Clone)]
struct Weigher;

impl quick_cache::Weighter<String, Arc<Document>> for Weigher {
    fn weight(&self, key: &String, doc: &Arc<Document>) -> u64 {
        (key.len() + doc.body.len() + doc.content_type.len() + doc.etag.len() + 64) as u64
    }
}

pub struct DocumentCache {
    cache: quick_cache::sync::Cache<String, Arc<Document>, Weigher>,
}

/// Default capacity: 32 MiB of documents.
pub const DEFAULT_CAPACITY_BYTES: u64 = 32 * 1024 * 1024;

impl Default for DocumentCache {
    fn default() -> Self {
        DocumentCache::new(DEFAULT_CAPACITY_BYTES)
    }
}

impl DocumentCache {
    pub fn new(capacity_bytes: u64) -> Self {
        // quick_cache wants an item estimate; documents are typically a few KiB.
        let items = usize::try_from(capacity_bytes / 4096)
            .unwrap_or(usize::MAX)
            .max(16);
        DocumentCache {
            cache: quick_cache::sync::Cache::with_weighter(items, capacity_bytes, Weigher),
        }
    }

    /// The document `key` (which names the format, the variant and what it covers) as of
    /// `revisions`, built with `build` (body, content type) when it is not cached.
    pub async fn get_or_build<F, Fut>(
        &self,
        key: &str,
        revisions: &[Revision],
        build: F,
    ) -> Result<Arc<Document>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Bytes, String), ApiError>>,
    {
        let digest = revision_key(key, revisions);
        if let Some(doc) = self.cache.get(&digest) {
            return Ok(doc);
        }
        let (body, content_type) = build().await?;
        let doc = Arc::new(Document::new(
            body,
            content_type,
            format!("\"{digest}\""),
            newest_change(revisions),
        )?);
        self.cache.insert(digest, doc.clone());
        Ok(doc)
    }

    /// Drops everything (tests, and `packyard` when asked to).
    pub fn clear(&self) {
        self.cache.clear();
    }
}

/// The cache key of `key` as of `revisions` (in any order): a digest of both, so that a
/// change made by any process yields a new key. Also the strong ETag of what is built from
/// them.
pub fn revision_key(key: &str, revisions: &[Revision]) -> String {
    let mut sorted = revisions.to_vec();
    sorted.sort_by_key(|r| (r.project_id.0, r.revision));
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    for r in &sorted {
        h.update(r.project_id.0.to_le_bytes());
        h.update(r.revision.to_le_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// The newest change among `revisions`, for `Last-Modified`.
pub fn newest_change(revisions: &[Revision]) -> Option<Millis> {
    revisions.iter().map(|r| r.updated_at).max()
}

/// What a [`DerivedCache`] holds reports its size, so the cache evicts by bytes.
pub trait Weighed {
    /// Approximate bytes held.
    fn weight(&self) -> u64;
}

#[derive(Clone)]
struct ByWeight;

impl<T: Weighed> quick_cache::Weighter<String, Arc<T>> for ByWeight {
    fn weight(&self, key: &String, value: &Arc<T>) -> u64 {
        key.len() as u64 + value.weight() + 64
    }
}

/// A typed cache of values derived from catalog rows, keyed like [`DocumentCache`] by the
/// revisions they were built from: for a format's in-memory index of one package name
/// (Maven's files and metadata of an artifact), which answers many requests (files,
/// checksums, documents, misses) from one build. A miss is cached like a hit: a name with
/// no revisions is cached empty until a publish gives it one.
pub struct DerivedCache<T> {
    cache: quick_cache::sync::Cache<String, Arc<T>, ByWeight>,
}

impl<T: Weighed + Send + Sync + 'static> DerivedCache<T> {
    pub fn new(capacity_bytes: u64) -> Self {
        let items = usize::try_from(capacity_bytes / 4096)
            .unwrap_or(usize::MAX)
            .max(16);
        DerivedCache {
            cache: quick_cache::sync::Cache::with_weighter(items, capacity_bytes, ByWeight),
        }
    }

    /// The value `key` as of `revisions`, built by `build` (given the key's digest, usable
    /// as an ETag seed) when it is not cached.
    pub async fn get_or_build<F, Fut>(
        &self,
        key: &str,
        revisions: &[Revision],
        build: F,
    ) -> Result<Arc<T>, ApiError>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let digest = revision_key(key, revisions);
        if let Some(v) = self.cache.get(&digest) {
            return Ok(v);
        }
        let value = Arc::new(build(digest.clone()).await?);
        self.cache.insert(digest, value.clone());
        Ok(value)
    }

    pub fn clear(&self) {
        self.cache.clear();
    }
}

/// Answers a GET or HEAD of `doc` through [`conditional::respond`]: 304 when the request's
/// preconditions say the client's copy is current, else 200 with `ETag`, `Last-Modified` and
/// `Cache-Control: no-cache` (clients revalidate every time), and the body unless HEAD.
pub fn serve_document(req: &HttpRequest, doc: &Document) -> HttpResponse {
    let mut resp = HttpResponse::Ok();
    resp.insert_header((header::ETAG, doc.headers.etag.clone()))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .insert_header((header::CONTENT_TYPE, doc.headers.content_type.clone()));
    if let Some(lm) = &doc.headers.last_modified {
        resp.insert_header((header::LAST_MODIFIED, lm.clone()));
    }
    conditional::respond(
        req,
        resp,
        Some(&doc.etag),
        doc.last_modified,
        doc.body.clone(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::ProjectId;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn rev(p: i64, r: i64) -> Revision {
        Revision {
            project_id: ProjectId(p),
            revision: r,
            updated_at: 1_700_000_000_000 + r,
        }
    }

    #[tokio::test]
    async fn builds_once_per_key_and_revision() {
        let cache = DocumentCache::new(1 << 20);
        let builds = AtomicUsize::new(0);
        let build = || async {
            builds.fetch_add(1, Ordering::SeqCst);
            Ok((Bytes::from_static(b"doc"), "text/plain".to_owned()))
        };
        let a = cache.get_or_build("k", &[rev(1, 1)], build).await.unwrap();
        let b = cache.get_or_build("k", &[rev(1, 1)], build).await.unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        assert_eq!(a.etag, b.etag);
        // Another revision, another key, another project set: rebuilt.
        let c = cache.get_or_build("k", &[rev(1, 2)], build).await.unwrap();
        let d = cache
            .get_or_build("k", &[rev(1, 1), rev(2, 1)], build)
            .await
            .unwrap();
        let e = cache
            .get_or_build("other", &[rev(1, 1)], build)
            .await
            .unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), 4);
        assert_ne!(a.etag, c.etag);
        assert_ne!(a.etag, d.etag);
        assert_ne!(a.etag, e.etag);
        assert_eq!(c.last_modified, Some(1_700_000_000_002));
    }

    struct Sized(u64);

    impl Weighed for Sized {
        fn weight(&self) -> u64 {
            self.0
        }
    }

    #[tokio::test]
    async fn derived_values_are_built_once_per_key_and_revisions_in_any_order() {
        let cache: DerivedCache<Sized> = DerivedCache::new(1 << 20);
        let builds = AtomicUsize::new(0);
        let build = |_seed: String| async {
            builds.fetch_add(1, Ordering::SeqCst);
            Ok(Sized(10))
        };
        cache
            .get_or_build("k", &[rev(1, 1), rev(2, 5)], build)
            .await
            .unwrap();
        // The same revisions in another order: the same entry.
        cache
            .get_or_build("k", &[rev(2, 5), rev(1, 1)], build)
            .await
            .unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        // A publish anywhere moves a revision: rebuilt. Another key: rebuilt.
        cache
            .get_or_build("k", &[rev(1, 2), rev(2, 5)], build)
            .await
            .unwrap();
        cache
            .get_or_build("other", &[rev(1, 1)], build)
            .await
            .unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), 3);
        // A failed build is not cached.
        let failed = cache
            .get_or_build("bad", &[], |_| async {
                Err::<Sized, _>(ApiError::not_found("x"))
            })
            .await;
        assert!(failed.is_err());
        cache.get_or_build("bad", &[], build).await.unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), 4);
    }

    #[actix_web::test]
    async fn revalidation_answers_304() {
        let doc = Document::new(
            Bytes::from_static(b"x"),
            "text/plain".into(),
            "\"abc\"".into(),
            Some(1_700_000_000_000),
        )
        .unwrap();
        let req = actix_web::test::TestRequest::default()
            .insert_header((header::IF_NONE_MATCH, "\"abc\""))
            .to_http_request();
        assert_eq!(serve_document(&req, &doc).status(), 304);
        let req = actix_web::test::TestRequest::default()
            .insert_header((header::IF_NONE_MATCH, "\"zzz\""))
            .to_http_request();
        let resp = serve_document(&req, &doc);
        assert_eq!(resp.status(), 200);
        let h = resp.headers();
        assert_eq!(h.get(header::ETAG).unwrap(), "\"abc\"");
        assert_eq!(h.get(header::CONTENT_TYPE).unwrap(), "text/plain");
        assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "no-cache");
        assert_eq!(
            h.get(header::LAST_MODIFIED).unwrap(),
            "Tue, 14 Nov 2023 22:13:20 GMT"
        );
        let req = actix_web::test::TestRequest::default()
            .insert_header((header::IF_MODIFIED_SINCE, "Tue, 14 Nov 2023 22:13:20 GMT"))
            .to_http_request();
        assert_eq!(serve_document(&req, &doc).status(), 304);
        let req = actix_web::test::TestRequest::default()
            .insert_header((header::IF_MODIFIED_SINCE, "Tue, 14 Nov 2023 22:13:19 GMT"))
            .to_http_request();
        assert_eq!(serve_document(&req, &doc).status(), 200);
    }
}
