//! A local S3-compatible server for tests: `s3s-fs` (objects as files under a root folder)
//! behind `s3s`'s SigV4 authentication (<https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html>).
//!
//! Signatures are verified, so a client with a wrong secret key is refused with 403, the way
//! AWS S3, MinIO or Garage would refuse it. Buckets are folders under the root; a bucket must
//! exist (see [`create_bucket`]) before objects are written to it.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Access key of the server started by [`start_s3`].
pub const TEST_ACCESS_KEY: &str = "packyard-test-access-key";
/// Secret key of the server started by [`start_s3`].
pub const TEST_SECRET_KEY: &str = "packyard-test-secret-key-do-not-use";
/// Bucket created by [`start_s3`].
pub const TEST_BUCKET: &str = "packyard-test";

/// Creates the bucket `name` under `root` (s3s-fs keeps a bucket as a folder).
///
/// The name must follow S3's rules (3 to 63 of `a-z0-9.-`, starting and ending with a
/// letter or digit); s3s answers `InvalidBucketName` to anything else, so it is refused here.
pub fn create_bucket(root: &Path, name: &str) -> io::Result<()> {
    let valid = (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !valid {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid S3 bucket name {name:?} (3-63 of a-z, 0-9, '.', '-')"),
        ));
    }
    std::fs::create_dir_all(root.join(name))
}

/// Serves S3 on `listener` with objects under `root` (which must exist) and one SigV4
/// credential, until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    root: &Path,
    access_key: &str,
    secret_key: &str,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let service = service(root, access_key, secret_key)?;
    serve_service(listener, service, shutdown).await;
    Ok(())
}

/// The s3s-fs service over `root` (which must exist), accepting one SigV4 credential.
pub fn service(root: &Path, access_key: &str, secret_key: &str) -> io::Result<S3Service> {
    let fs = s3s_fs::FileSystem::new(root)
        .map_err(|e| io::Error::other(format!("s3s-fs cannot use {}: {e:?}", root.display())))?;
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
    Ok(builder.build())
}

/// Serves `service` on `listener` until `shutdown` completes.
pub async fn serve_service(
    listener: TcpListener,
    service: S3Service,
    shutdown: impl Future<Output = ()>,
) {
    let http = ConnBuilder::new(TokioExecutor::new());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                // A failed accept (e.g. too many open files) must not stop the server.
                Err(_) => continue,
            },
            () = shutdown.as_mut() => return,
        };
        let conn = http
            .serve_connection(TokioIo::new(socket), service.clone())
            .into_owned();
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
}

/// A running test S3 server; it stops when dropped.
#[derive(Debug)]
pub struct S3Server {
    /// `http://127.0.0.1:PORT`, for path-style requests.
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    /// A bucket that exists ([`TEST_BUCKET`]).
    pub bucket: String,
    /// The folder holding the buckets.
    pub root: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl S3Server {
    /// Creates another bucket.
    pub fn create_bucket(&self, name: &str) -> io::Result<()> {
        create_bucket(&self.root, name)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts a SigV4-checking S3 server on `127.0.0.1:<free port>` storing under `root`, with
/// [`TEST_ACCESS_KEY`] / [`TEST_SECRET_KEY`] and the bucket [`TEST_BUCKET`] created.
///
/// It runs on its own thread and runtime, so it works from any test (current-thread
/// `#[tokio::test]` included) and keeps serving while the test blocks.
///
/// # Panics
/// When the server cannot start (a test helper: the test cannot go on without it).
pub async fn start_s3(root: &Path) -> S3Server {
    match try_start_s3(root) {
        Ok(server) => server,
        Err(e) => panic!("cannot start the test S3 server in {}: {e}", root.display()),
    }
}

/// [`start_s3`], returning start-up errors instead of panicking.
pub fn try_start_s3(root: &Path) -> io::Result<S3Server> {
    std::fs::create_dir_all(root)?;
    create_bucket(root, TEST_BUCKET)?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
    let thread_root = root.to_path_buf();
    let thread = std::thread::Builder::new()
        .name("packyard-test-s3".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                let listener = match TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let service = match service(&thread_root, TEST_ACCESS_KEY, TEST_SECRET_KEY) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                serve_service(listener, service, async {
                    let _ = rx.await;
                })
                .await;
            });
            // Open client connections must not keep the thread (and `Drop`) waiting.
            runtime.shutdown_background();
        })?;
    match ready_rx.recv() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(io::Error::other("the test S3 server thread stopped")),
    }
    Ok(S3Server {
        endpoint: format!("http://{addr}"),
        access_key: TEST_ACCESS_KEY.to_owned(),
        secret_key: TEST_SECRET_KEY.to_owned(),
        bucket: TEST_BUCKET.to_owned(),
        root: root.to_path_buf(),
        shutdown: Some(tx),
        thread: Some(thread),
    })
}
