//! The `BlobStore` contract, written once and run against both stores: the filesystem
//! store in a temp folder and the S3 store against a real SigV4-checking S3 server
//! (s3s-fs, started by `packyard-testkit`).
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use futures_util::{stream, StreamExt};
use md5::Md5;
use packyard_core::ports::{BlobError, BlobStore, ByteRange, ByteStream, RangeRequest};
use packyard_storage::{FsBlobStore, S3BlobStore, S3Config};
use packyard_testkit::S3Server;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;

const HELLO_SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const MISSING: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A store under test, with what is needed to look behind it.
struct Harness {
    store: Box<dyn BlobStore>,
    /// Where the store keeps uploads in flight; must be empty between operations.
    spool: PathBuf,
    _dir: TempDir,
    _server: Option<S3Server>,
}

impl Harness {
    fn fs() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path().join("store")).unwrap();
        Harness {
            store: Box::new(store),
            spool: dir.path().join("store").join("tmp"),
            _dir: dir,
            _server: None,
        }
    }

    async fn s3() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = packyard_testkit::start_s3(&dir.path().join("s3")).await;
        let config = s3_config(&server, dir.path(), &server.secret_key);
        Harness {
            store: Box::new(S3BlobStore::new(config).unwrap()),
            spool: dir.path().join("spool"),
            _dir: dir,
            _server: Some(server),
        }
    }

    fn assert_no_temp_files(&self) {
        let left: Vec<_> = std::fs::read_dir(&self.spool)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
    }
}

fn s3_config(server: &S3Server, dir: &Path, secret_key: &str) -> S3Config {
    S3Config {
        endpoint: server.endpoint.clone(),
        region: "us-east-1".into(),
        bucket: server.bucket.clone(),
        access_key: server.access_key.clone(),
        secret_key: secret_key.into(),
        path_style: true,
        prefix: "packyard".into(),
        spool_dir: dir.join("spool"),
        max_concurrent_chunks: 2,
    }
}

fn body(chunks: Vec<Vec<u8>>) -> ByteStream {
    stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c)))).boxed()
}

fn one(bytes: &[u8]) -> ByteStream {
    body(vec![bytes.to_vec()])
}

/// Deterministic, not compressible-looking bytes.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[i % 4] ^ seed)
        .collect()
}

async fn read_all(mut s: ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = s.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

async fn get_bytes(
    store: &dyn BlobStore,
    sha: &str,
    range: Option<RangeRequest>,
) -> (Vec<u8>, u64, Option<ByteRange>) {
    let read = store.get(sha, range).await.unwrap();
    let (size, range) = (read.size, read.range);
    (read_all(read.stream).await, size, range)
}

// ---- the contract

async fn put_returns_known_digests_of_hello(h: &Harness) {
    let d = h
        .store
        .put(body(vec![b"he".to_vec(), b"llo".to_vec()]), None)
        .await
        .unwrap();
    assert_eq!(d.size, 5);
    assert_eq!(d.sha256, HELLO_SHA256);
    assert_eq!(d.sha1, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
    assert_eq!(d.md5, "5d41402abc4b2a76b9719d911017c592");
    assert!(d
        .sha512
        .starts_with("9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7"));
    assert_eq!(get_bytes(&*h.store, HELLO_SHA256, None).await.0, b"hello");
    h.assert_no_temp_files();
}

async fn put_then_get_round_trips_bytes_and_digests(h: &Harness) {
    let data = pattern(300_000, 7);
    let chunks = data.chunks(10_000).map(<[u8]>::to_vec).collect();
    let d = h.store.put(body(chunks), Some(1 << 20)).await.unwrap();
    assert_eq!(d.size, data.len() as u64);
    assert_eq!(d.sha256, hex::encode(Sha256::digest(&data)));
    assert_eq!(d.sha1, hex::encode(Sha1::digest(&data)));
    assert_eq!(d.md5, hex::encode(Md5::digest(&data)));
    assert_eq!(d.sha512, hex::encode(Sha512::digest(&data)));
    let (got, size, range) = get_bytes(&*h.store, &d.sha256, None).await;
    assert_eq!(size, data.len() as u64);
    assert_eq!(range, None);
    assert!(got == data, "downloaded bytes differ");
    assert_eq!(h.store.size(&d.sha256).await.unwrap(), data.len() as u64);
}

async fn empty_blob_round_trips(h: &Harness) {
    let d = h.store.put(body(vec![]), Some(0)).await.unwrap();
    assert_eq!(d.size, 0);
    assert_eq!(
        d.sha256,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let (got, size, _) = get_bytes(&*h.store, &d.sha256, None).await;
    assert!(got.is_empty());
    assert_eq!(size, 0);
}

async fn same_bytes_put_twice_are_stored_once(h: &Harness) {
    let a = h.store.put(one(b"hello"), None).await.unwrap();
    let b = h
        .store
        .put(body(vec![b"hel".to_vec(), b"lo".to_vec()]), None)
        .await
        .unwrap();
    assert_eq!(a, b);
    h.store.put(one(b"other"), None).await.unwrap();
    let list = h.store.list().await.unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    let hello = list.iter().find(|i| i.sha256 == HELLO_SHA256).unwrap();
    assert_eq!(hello.size, 5);
    h.assert_no_temp_files();
}

async fn list_reports_size_and_a_recent_modification_time(h: &Harness) {
    let before = now_millis() - 5_000;
    h.store.put(one(b"hello"), None).await.unwrap();
    let list = h.store.list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].sha256, HELLO_SHA256);
    assert_eq!(list[0].size, 5);
    assert!(
        list[0].modified >= before,
        "{} < {before}",
        list[0].modified
    );
    assert!(list[0].modified <= now_millis() + 5_000);
    // Asked for one blob, the store gives the same age as its listing (to the second: S3's
    // HEAD answers an HTTP date).
    let one = h.store.modified(HELLO_SHA256).await.unwrap();
    assert!(
        (one - list[0].modified).abs() < 1_000,
        "{one} vs {}",
        list[0].modified
    );
    assert!(matches!(
        h.store.modified(&"0".repeat(64)).await,
        Err(BlobError::NotFound)
    ));
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn upload_over_the_limit_is_too_large_and_keeps_nothing(h: &Harness) {
    let chunks = vec![vec![1u8; 600], vec![2u8; 600]];
    match h.store.put(body(chunks), Some(1000)).await {
        Err(BlobError::TooLarge { limit }) => assert_eq!(limit, 1000),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(h.store.list().await.unwrap().is_empty());
    h.assert_no_temp_files();
}

async fn upload_of_exactly_the_limit_is_accepted(h: &Harness) {
    let d = h.store.put(one(&[9u8; 1000]), Some(1000)).await.unwrap();
    assert_eq!(d.size, 1000);
}

async fn body_failing_midway_is_interrupted_and_keeps_nothing(h: &Harness) {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from(vec![1u8; 70_000])),
        Ok(Bytes::from(vec![2u8; 70_000])),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
        Ok(Bytes::from(vec![3u8; 10])),
    ];
    match h.store.put(stream::iter(chunks).boxed(), None).await {
        Err(BlobError::Interrupted(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
        other => panic!("expected Interrupted, got {other:?}"),
    }
    assert!(h.store.list().await.unwrap().is_empty());
    h.assert_no_temp_files();
}

async fn cancelled_upload_keeps_nothing(h: &Harness) {
    // The client stops sending and the server drops the request future.
    let stalled = stream::iter(vec![Ok(Bytes::from(vec![1u8; 100_000]))])
        .chain(stream::pending())
        .boxed();
    let put = h.store.put(stalled, None);
    assert!(tokio::time::timeout(Duration::from_millis(200), put)
        .await
        .is_err());
    assert!(h.store.list().await.unwrap().is_empty());
    h.assert_no_temp_files();
}

async fn ranges_return_exactly_the_asked_bytes(h: &Harness) {
    let data = pattern(200_000, 3);
    let d = h.store.put(one(&data), None).await.unwrap();
    let size = data.len() as u64;
    let cases = [
        (
            RangeRequest::FromTo {
                start: 10,
                end: Some(19),
            },
            10,
            19,
        ),
        (
            RangeRequest::FromTo {
                start: 0,
                end: Some(0),
            },
            0,
            0,
        ),
        (
            RangeRequest::FromTo {
                start: 150_000,
                end: None,
            },
            150_000,
            size - 1,
        ),
        (
            RangeRequest::FromTo {
                start: 100,
                end: Some(size + 50),
            },
            100,
            size - 1,
        ),
        (RangeRequest::Suffix(100), size - 100, size - 1),
        (RangeRequest::Suffix(size + 1), 0, size - 1),
    ];
    for (req, start, end) in cases {
        let (got, total, range) = get_bytes(&*h.store, &d.sha256, Some(req)).await;
        assert_eq!(total, size, "{req:?}");
        assert_eq!(range, Some(ByteRange { start, end }), "{req:?}");
        assert!(
            got == data[start as usize..=end as usize],
            "{req:?}: wrong bytes"
        );
    }
}

async fn range_outside_the_blob_is_not_satisfiable(h: &Harness) {
    let d = h.store.put(one(b"hello"), None).await.unwrap();
    for req in [
        RangeRequest::FromTo {
            start: 5,
            end: None,
        },
        RangeRequest::FromTo {
            start: 9,
            end: Some(12),
        },
        RangeRequest::FromTo {
            start: 3,
            end: Some(1),
        },
        RangeRequest::Suffix(0),
    ] {
        match h.store.get(&d.sha256, Some(req)).await {
            Err(BlobError::RangeNotSatisfiable { size }) => assert_eq!(size, 5, "{req:?}"),
            Err(e) => panic!("{req:?}: expected RangeNotSatisfiable, got {e:?}"),
            Ok(_) => panic!("{req:?}: expected RangeNotSatisfiable, got a stream"),
        }
    }
}

async fn missing_blob_is_not_found_for_get_and_size(h: &Harness) {
    assert!(matches!(
        h.store.get(MISSING, None).await,
        Err(BlobError::NotFound)
    ));
    let suffix = Some(RangeRequest::Suffix(1));
    assert!(matches!(
        h.store.get(MISSING, suffix).await,
        Err(BlobError::NotFound)
    ));
    assert!(matches!(
        h.store.size(MISSING).await,
        Err(BlobError::NotFound)
    ));
}

async fn malformed_sha256_is_not_found_and_reaches_no_path(h: &Harness) {
    h.store.put(one(b"hello"), None).await.unwrap();
    for bad in [
        "../../../../etc/passwd",
        &HELLO_SHA256.to_uppercase(),
        &HELLO_SHA256[..63],
        "blobs/2c/f2/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    ] {
        assert!(
            matches!(h.store.get(bad, None).await, Err(BlobError::NotFound)),
            "{bad}"
        );
        assert!(
            matches!(h.store.size(bad).await, Err(BlobError::NotFound)),
            "{bad}"
        );
    }
}

async fn deleted_blob_is_not_found_and_deleting_twice_is_ok(h: &Harness) {
    let d = h.store.put(one(b"hello"), None).await.unwrap();
    h.store.delete(&d.sha256).await.unwrap();
    assert!(matches!(
        h.store.get(&d.sha256, None).await,
        Err(BlobError::NotFound)
    ));
    assert!(matches!(
        h.store.size(&d.sha256).await,
        Err(BlobError::NotFound)
    ));
    assert!(h.store.list().await.unwrap().is_empty());
    h.store.delete(&d.sha256).await.unwrap();
    h.store.delete(MISSING).await.unwrap();
}

async fn twenty_mib_upload_in_chunks_round_trips(h: &Harness) {
    const MIB: usize = 1024 * 1024;
    let mut expected = Sha256::new();
    let chunks: Vec<Vec<u8>> = (0..20u8)
        .map(|i| {
            let c = pattern(MIB, i);
            expected.update(&c);
            c
        })
        .collect();
    let expected = hex::encode(expected.finalize());
    let d = h
        .store
        .put(body(chunks), Some(64 * MIB as u64))
        .await
        .unwrap();
    assert_eq!(d.size, 20 * MIB as u64);
    assert_eq!(d.sha256, expected);
    h.assert_no_temp_files();
    // Hash the download as it streams instead of keeping it.
    let read = h.store.get(&d.sha256, None).await.unwrap();
    assert_eq!(read.size, 20 * MIB as u64);
    let mut s = read.stream;
    let mut got = Sha256::new();
    let mut n = 0usize;
    while let Some(chunk) = s.next().await {
        let chunk = chunk.unwrap();
        n += chunk.len();
        got.update(&chunk);
    }
    assert_eq!(n, 20 * MIB);
    assert_eq!(hex::encode(got.finalize()), expected);
}

async fn readiness_check_succeeds_and_leaves_nothing(h: &Harness) {
    h.store.check().await.unwrap();
    assert!(h.store.list().await.unwrap().is_empty());
    h.assert_no_temp_files();
}

macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        mod fs_store {
            $(
                #[tokio::test]
                async fn $name() {
                    let h = super::Harness::fs();
                    super::$name(&h).await;
                }
            )*
        }
        mod s3_store {
            $(
                #[tokio::test]
                async fn $name() {
                    let h = super::Harness::s3().await;
                    super::$name(&h).await;
                }
            )*
        }
    };
}

contract_tests!(
    put_returns_known_digests_of_hello,
    put_then_get_round_trips_bytes_and_digests,
    empty_blob_round_trips,
    same_bytes_put_twice_are_stored_once,
    list_reports_size_and_a_recent_modification_time,
    upload_over_the_limit_is_too_large_and_keeps_nothing,
    upload_of_exactly_the_limit_is_accepted,
    body_failing_midway_is_interrupted_and_keeps_nothing,
    cancelled_upload_keeps_nothing,
    ranges_return_exactly_the_asked_bytes,
    range_outside_the_blob_is_not_satisfiable,
    missing_blob_is_not_found_for_get_and_size,
    malformed_sha256_is_not_found_and_reaches_no_path,
    deleted_blob_is_not_found_and_deleting_twice_is_ok,
    twenty_mib_upload_in_chunks_round_trips,
    readiness_check_succeeds_and_leaves_nothing,
);

// ---- store-specific behaviour

#[tokio::test]
async fn fs_store_has_no_presigned_urls() {
    let h = Harness::fs();
    h.store.put(one(b"hello"), None).await.unwrap();
    let url = h
        .store
        .presigned_url(
            HELLO_SHA256,
            Duration::from_secs(60),
            "attachment; filename=\"a.txt\"",
        )
        .await
        .unwrap();
    assert_eq!(url, None);
}

#[tokio::test]
async fn s3_presigned_url_downloads_the_blob_with_plain_http() {
    let h = Harness::s3().await;
    h.store.put(one(b"hello"), None).await.unwrap();
    let url = h
        .store
        .presigned_url(
            HELLO_SHA256,
            Duration::from_secs(60),
            "attachment; filename=\"hello.txt\"",
        )
        .await
        .unwrap()
        .expect("S3 hands out presigned URLs");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert!(url.contains("response-content-disposition="), "{url}");
    let out = tokio::process::Command::new("curl")
        .args(["-s", "-f", "--max-time", "10", &url])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "curl failed: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"hello");
}

#[tokio::test]
async fn s3_presigned_url_with_a_tampered_signature_is_refused() {
    let h = Harness::s3().await;
    h.store.put(one(b"hello"), None).await.unwrap();
    let url = h
        .store
        .presigned_url(HELLO_SHA256, Duration::from_secs(60), "attachment")
        .await
        .unwrap()
        .unwrap();
    // Asking for another key under the same signature must fail.
    let tampered = url.replace(HELLO_SHA256, &HELLO_SHA256.replace('2', "3"));
    assert_ne!(tampered, url);
    let out = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "10",
            &tampered,
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "403");
}

#[tokio::test]
async fn s3_store_with_a_wrong_secret_key_fails_its_check() {
    let dir = tempfile::tempdir().unwrap();
    let server = packyard_testkit::start_s3(&dir.path().join("s3")).await;
    let store = S3BlobStore::new(s3_config(&server, dir.path(), "not-the-secret")).unwrap();
    match store.check().await {
        // SigV4 verification refuses it: 403 SignatureDoesNotMatch.
        Err(BlobError::Backend(e)) => assert!(e.to_string().contains("403"), "{e}"),
        other => panic!("expected a backend error, got {other:?}"),
    }
    // And an upload is refused too, leaving nothing behind.
    assert!(matches!(
        store.put(one(b"hello"), None).await,
        Err(BlobError::Backend(_))
    ));
    let good = S3BlobStore::new(s3_config(&server, dir.path(), &server.secret_key)).unwrap();
    assert!(good.list().await.unwrap().is_empty());
    assert_eq!(
        std::fs::read_dir(dir.path().join("spool")).unwrap().count(),
        0
    );
}

#[tokio::test]
async fn s3_store_keeps_blobs_under_its_prefix() {
    let h = Harness::s3().await;
    h.store.put(one(b"hello"), None).await.unwrap();
    let server = h._server.as_ref().unwrap();
    let object = server
        .root
        .join(&server.bucket)
        .join("packyard/blobs/2c/f2")
        .join(HELLO_SHA256);
    assert_eq!(std::fs::read(object).unwrap(), b"hello");
}

#[tokio::test]
async fn fs_store_keeps_blobs_at_their_content_address() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::new(dir.path().to_path_buf()).unwrap();
    store.put(one(b"hello"), None).await.unwrap();
    let path = dir.path().join("blobs/2c/f2").join(HELLO_SHA256);
    assert_eq!(std::fs::read(path).unwrap(), b"hello");
}

/// Backdates a stored file by a day, as if it had been uploaded long ago.
fn backdate(path: &Path) {
    let day_ago = std::time::SystemTime::now() - Duration::from_secs(24 * 3600);
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_modified(day_ago).unwrap();
}

async fn assert_reupload_refreshes_modification_time(store: &dyn BlobStore, stored_file: &Path) {
    backdate(stored_file);
    let old = store.list().await.unwrap()[0].modified;
    assert!(old < now_millis() - 3_600_000, "backdating did not take");
    assert!(store.modified(HELLO_SHA256).await.unwrap() < now_millis() - 3_600_000);
    store.put(one(b"hello"), None).await.unwrap();
    // gc's second look, right before it deletes, sees the re-upload.
    assert!(store.modified(HELLO_SHA256).await.unwrap() > now_millis() - 60_000);
    let list = store.list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(
        list[0].modified > now_millis() - 60_000,
        "gc grace period not restarted"
    );
}

#[tokio::test]
async fn fs_store_reupload_of_an_old_blob_restarts_its_gc_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::new(dir.path().to_path_buf()).unwrap();
    store.put(one(b"hello"), None).await.unwrap();
    let path = dir.path().join("blobs/2c/f2").join(HELLO_SHA256);
    assert_reupload_refreshes_modification_time(&store, &path).await;
}

#[tokio::test]
async fn s3_store_reupload_of_an_old_blob_restarts_its_gc_grace_period() {
    let h = Harness::s3().await;
    h.store.put(one(b"hello"), None).await.unwrap();
    let server = h._server.as_ref().unwrap();
    let path = server
        .root
        .join(&server.bucket)
        .join("packyard/blobs/2c/f2")
        .join(HELLO_SHA256);
    assert_reupload_refreshes_modification_time(&*h.store, &path).await;
}
