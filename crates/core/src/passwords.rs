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
//! The hasher is built once with the [`Registry`](crate::Registry) (no global state), and
//! sign-in, password changes and the admin's user creation all use the same one.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::http::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::credentials;
use crate::error::ApiError;

/// How long a call waits for a permit before it is refused (429).
pub const DEFAULT_WAIT: Duration = Duration::from_secs(3);
/// `Retry-After` of a refusal, in seconds.
const RETRY_AFTER_SECS: u64 = 2;

/// Runs argon2 on the blocking pool, at most `concurrency` calls at a time.
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
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
            .field("wait", &self.wait)
            .finish()
    }
}

impl PasswordHasher {
    /// At most `concurrency` (at least 1) hashes at once; a call waits `wait` for its turn.
    pub fn new(concurrency: usize, wait: Duration) -> Self {
        PasswordHasher {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
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

    /// Runs `f` on the blocking pool under a permit.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = self.permit().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        })
        .await
        .map_err(ApiError::internal)
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
            .run(move || credentials::verify_password(&password, &phc))
            .await?;
        Ok(real && matched)
    }

    /// An argon2id PHC string for `password`. Err: 429 when the hasher is busy.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || credentials::hash_password(&password))
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
