//! Catalog reads kept in memory for as long as the catalog's change stamp says that nothing
//! has been committed since they were read.
//!
//! Every request reads the same few rows: the caller's token and user, the project, the
//! instance settings, the caller's membership level and the revisions of the document it
//! asks for. [`Catalog::change_stamp`](crate::ports::Catalog::change_stamp) is a value that
//! differs whenever any connection, in this process or another, commits (on SQLite,
//! `PRAGMA data_version` on one dedicated connection). A value is stored with the stamp taken
//! *before* it was read and used only while the stamp is still the same, so an entry can be
//! missing but never stale: a revoked token, a changed visibility or membership and a new
//! publish are all commits, and the very next request reads them again. What depends on the
//! clock (token and membership expiry) is still checked on every request by the caller.
//! Without a stamp (`None`, e.g. PostgreSQL) nothing is kept and every call reads.

use std::future::Future;
use std::hash::Hash;

/// One kind of cached read, bounded to `capacity` entries (least recently used go first).
pub struct StampedCache<K, V> {
    cache: quick_cache::sync::Cache<K, (u64, V)>,
}

impl<K, V> StampedCache<K, V>
where
    K: Eq + Hash + Clone,
    V: Clone,
{
    pub fn new(capacity: usize) -> Self {
        StampedCache {
            cache: quick_cache::sync::Cache::new(capacity.max(1)),
        }
    }

    /// The value of `key` as of `stamp`: the kept one when it was read under this very
    /// stamp, else what `load` reads now (kept under `stamp`, which the caller took before
    /// calling). With `stamp == None`, always `load`.
    pub async fn get_or_load<E, F, Fut>(&self, stamp: Option<u64>, key: K, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let Some(stamp) = stamp else {
            return load().await;
        };
        if let Some((at, value)) = self.cache.get(&key) {
            if at == stamp {
                return Ok(value);
            }
        }
        let value = load().await?;
        self.cache.insert(key, (stamp, value.clone()));
        Ok(value)
    }

    /// Drops everything.
    pub fn clear(&self) {
        self.cache.clear();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_value_is_reused_only_under_the_stamp_it_was_read_with() {
        let cache: StampedCache<&str, usize> = StampedCache::new(16);
        let reads = AtomicUsize::new(0);
        let load = || async { Ok::<_, ()>(reads.fetch_add(1, Ordering::SeqCst)) };
        assert_eq!(cache.get_or_load(Some(1), "k", load).await, Ok(0));
        assert_eq!(cache.get_or_load(Some(1), "k", load).await, Ok(0));
        // Something was committed: read again, and keep the new value.
        assert_eq!(cache.get_or_load(Some(2), "k", load).await, Ok(1));
        assert_eq!(cache.get_or_load(Some(2), "k", load).await, Ok(1));
        // No stamp: always read, keep nothing.
        assert_eq!(cache.get_or_load(None, "k", load).await, Ok(2));
        assert_eq!(cache.get_or_load(None, "k", load).await, Ok(3));
        assert_eq!(cache.get_or_load(Some(2), "k", load).await, Ok(1));
        assert_eq!(reads.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_failed_read_is_not_kept() {
        let cache: StampedCache<&str, usize> = StampedCache::new(16);
        let failed = cache
            .get_or_load(Some(1), "k", || async { Err::<usize, _>("down") })
            .await;
        assert_eq!(failed, Err("down"));
        let read = cache
            .get_or_load(Some(1), "k", || async { Ok::<_, &str>(7) })
            .await;
        assert_eq!(read, Ok(7));
    }
}
