//! Account passwords: every argon2 hash and verification runs through one [`PasswordHasher`].
//!
//! argon2id with the default parameters (RFC 9106's second choice: 19 MiB, t = 2) takes
//! 19 MiB and tens of milliseconds for each call, on purpose. Forty sign-ins at once left the
//! server about 800 MiB resident, so the hasher holds a semaphore of a few permits (one per
//! core, at least two): a call waits for a permit a short while and is then refused with 429
//! and `Retry-After`, so sign-in traffic cannot take the memory and the cores that package
//! traffic needs. The permit moves into the blocking task, so a client that goes away
//! mid-hash does not free a permit before its hash has finished.
//!
//! The hashes run on the hasher's own threads, as many as it has permits, never on tokio's
//! blocking pool: each thread that runs argon2 keeps its 19 MiB in its malloc arena after the
//! call, so forty sign-ins spread over forty pool threads still left ~360 MB resident with
//! the semaphore alone. On two threads of its own the hasher's memory stays at two blocks.
//!
//! The hasher is built once with the [`Registry`](crate::Registry) (no global state), and
//! sign-in, password changes and the admin's user creation all use the same one.

use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;

use actix_web::http::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::credentials::{self, Argon2Memory};
use crate::error::ApiError;

/// How long a call waits for a permit before it is refused (429).
pub const DEFAULT_WAIT: Duration = Duration::from_secs(3);
/// `Retry-After` of a refusal, in seconds.
const RETRY_AFTER_SECS: u64 = 2;

/// A hash or a verification, run by one of the hasher's threads in that thread's memory.
type Job = Box<dyn FnOnce(&mut Argon2Memory) + Send>;

/// Runs argon2 on its own threads, at most `concurrency` calls at a time.
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Feeds the hasher's threads; they end when it is dropped. `None` when no thread could
    /// be started: then calls go to tokio's blocking pool (still under the permits).
    jobs: Option<mpsc::Sender<Job>>,
    wait: Duration,
    /// A hash of a random secret, made at the first sign-in of an unknown username, so
    /// that it costs one verification like a known one (timing tells no usernames).
    dummy: OnceLock<String>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        PasswordHasher::new(Self::default_concurrency(), DEFAULT_WAIT)
    }
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("available", &self.permits.available_permits())
            .field("own_threads", &self.jobs.is_some())
            .field("wait", &self.wait)
            .finish()
    }
}

impl PasswordHasher {
    /// At most `concurrency` (at least 1) hashes at once; a call waits `wait` for its turn.
    pub fn new(concurrency: usize, wait: Duration) -> Self {
        let concurrency = concurrency.max(1);
        PasswordHasher {
            permits: Arc::new(Semaphore::new(concurrency)),
            jobs: start_threads(concurrency),
            wait,
            dummy: OnceLock::new(),
        }
    }

    /// One permit per core, at least two.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .max(2)
    }

    /// Takes a permit now, without waiting (`None` when all are taken). For tests that
    /// need a busy hasher, and for callers that hold one across several hashes.
    pub fn try_hold(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    async fn permit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out, or (never: the semaphore is not closed) closed.
            _ => Err(busy()),
        }
    }

    /// Runs `f` on one of the hasher's threads under a permit.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Argon2Memory) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = self.permit().await?;
        let Some(jobs) = &self.jobs else {
            return tokio::task::spawn_blocking(move || {
                let _permit = permit;
                f(&mut Argon2Memory::new())
            })
            .await
            .map_err(ApiError::internal);
        };
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let value = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(memory)));
            // The permit goes back before the caller hears, so it can take it again at once.
            drop(permit);
            // A panic drops `done`: the caller gets a 500, and the thread lives on.
            if let Ok(value) = value {
                let _ = done.send(value);
            }
        });
        jobs.send(job)
            .map_err(|_| ApiError::internal(std::io::Error::other("password threads ended")))?;
        result.await.map_err(|_| {
            ApiError::internal(std::io::Error::other("a password hash did not finish"))
        })
    }

    /// Whether `password` matches the PHC string `phc`. `None` (an unknown user, or one
    /// without a password) is never a match but costs one verification all the same.
    /// Err: 429 when the hasher is busy.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, ApiError> {
        let (phc, real) = match phc {
            Some(phc) => (phc, true),
            None => (self.dummy_hash().await?, false),
        };
        let matched = self
            .run(move |memory| credentials::verify_password_in(&password, &phc, memory))
            .await?;
        Ok(real && matched)
    }

    /// An argon2id PHC string for `password`. Err: 429 when the hasher is busy.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move |memory| credentials::hash_password_in(&password, memory))
            .await?
            .map_err(|e| ApiError::internal(std::io::Error::other(e.to_string())))
    }

    async fn dummy_hash(&self) -> Result<String, ApiError> {
        if let Some(h) = self.dummy.get() {
            return Ok(h.clone());
        }
        let fresh = self.hash(credentials::new_secret("")).await?;
        Ok(self.dummy.get_or_init(|| fresh).clone())
    }
}

/// Starts `n` threads that run jobs until the sender is dropped.
fn start_threads(n: usize) -> Option<mpsc::Sender<Job>> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for i in 0..n {
        let queue = queue.clone();
        let started = std::thread::Builder::new()
            .name(format!("packyard-passwords-{i}"))
            .spawn(move || {
                // Allocated at the first job, then reused by every job of this thread.
                let mut memory: Option<Argon2Memory> = None;
                loop {
                    // The lock is released at the end of this statement, before the job runs.
                    let next = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match next {
                        Ok(job) => job(memory.get_or_insert_with(Argon2Memory::new)),
                        Err(_) => return,
                    }
                }
            });
        if let Err(e) = started {
            tracing::warn!(error = %e, "cannot start password threads; hashing on the blocking pool");
            return None;
        }
    }
    Some(jobs)
}

/// 429 with `Retry-After`: every permit stayed taken for the whole wait.
pub fn busy() -> ApiError {
    ApiError::message(
        StatusCode::TOO_MANY_REQUESTS,
        "The server is busy checking other passwords. Try again in a few seconds.",
    )
    .retry_after(RETRY_AFTER_SECS)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_and_a_busy_hasher_answers_429_with_retry_after() {
        let hasher = PasswordHasher::new(1, Duration::from_millis(20));
        let phc = hasher.hash("s3cret pass".into()).await.unwrap();
        assert!(hasher
            .verify("s3cret pass".into(), Some(phc.clone()))
            .await
            .unwrap());
        assert!(!hasher
            .verify("wrong".into(), Some(phc.clone()))
            .await
            .unwrap());
        assert!(!hasher.verify("s3cret pass".into(), None).await.unwrap());

        let held = hasher.try_hold().unwrap();
        let e = hasher
            .verify("s3cret pass".into(), Some(phc.clone()))
            .await
            .unwrap_err();
        assert_eq!(e.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.retry_after_secs(), Some(RETRY_AFTER_SECS));
        assert_eq!(
            hasher.hash("x".repeat(10)).await.unwrap_err().status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        drop(held);
        assert!(hasher
            .verify("s3cret pass".into(), Some(phc))
            .await
            .unwrap());
    }

    #[test]
    fn at_least_two_permits_by_default() {
        assert!(PasswordHasher::default_concurrency() >= 2);
    }
}
