//! The catalog's change stamp on SQLite: a process-wide epoch that moves whenever any
//! connection, of this process or another, commits.
//!
//! Fast path: the WAL-index header at the start of the database's `-shm` file
//! (<https://www.sqlite.org/walformat.html>), read with one `pread`. Every commit rewrites it
//! (its `iChange` counter goes up by one per transaction) before any reader can see the
//! commit, because readers find commits through it. A header that differs from the last one
//! seen bumps the epoch.
//!
//! Slow path, when the header cannot be used (a write in progress, no `-shm` file, not in
//! WAL mode): `PRAGMA data_version` on dedicated connections. SQLite documents
//! (<https://www.sqlite.org/pragma.html#pragma_data_version>) that two reads of it on the same
//! connection differ whenever another connection committed in between; the dedicated
//! connections never write, so every commit is "another connection's".
//!
//! A commit that changes no byte of the file (an `UPDATE` writing the values a row already
//! holds) may leave both alone, which is right: nothing read before it is stale.
//!
//! PostgreSQL has no such counter for free; there the port answers `None` and every request
//! reads its rows (correct, just slower).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use diesel::connection::SimpleConnection;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::BigInt;
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{Connection, QueryResult, RunQueryDsl};
use packyard_core::ports::CatalogError;

/// Dedicated connections: every worker thread reading the stamp at once finds one free
/// instead of queueing on a lock (a contended mutex costs two context switches).
const CONNECTIONS: usize = 4;

/// `data_version` values of different connections cannot be compared, so the stamp is a
/// process-wide epoch instead: a connection that sees its `data_version` move (or reads it
/// for the first time) bumps the epoch before answering. Every commit is thus seen by the
/// first read after it on each connection, and that read, or an earlier one made after the
/// commit, has bumped the epoch: any stamp read after a commit differs from every stamp read
/// before it.
pub(crate) struct ChangeStamp {
    slots: Vec<Mutex<Slot>>,
    epoch: AtomicU64,
    next: AtomicUsize,
    /// The `-shm` file of the database, read for the fast path (`read_header`).
    shm_path: String,
    shm: OnceLock<File>,
    /// The WAL-index header seen last by the fast path.
    last_header: Mutex<[u8; HEADER]>,
}

/// Size of one copy of the WAL-index header (<https://www.sqlite.org/walformat.html>).
const HEADER: usize = 48;

struct Slot {
    conn: SqliteConnection,
    /// The `data_version` this connection read last.
    last: Option<i64>,
}

#[derive(diesel::QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}

/// SQLite's checksum of a WAL-index header copy (`walChecksumBytes` over its first 40
/// bytes, always in native byte order for the index, as `walIndexWriteHdr` computes it),
/// compared with the `aCksum` it stores in bytes 40..48.
fn checksum_holds(h: &[u8]) -> bool {
    let word = |i: usize| u32::from_ne_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let (mut s1, mut s2) = (0u32, 0u32);
    for i in (0..40).step_by(8) {
        s1 = s1.wrapping_add(word(i)).wrapping_add(s2);
        s2 = s2.wrapping_add(word(i + 4)).wrapping_add(s1);
    }
    s1 == word(40) && s2 == word(44)
}

/// `PRAGMA data_version` as a query with a static id, so that each connection prepares it
/// once and keeps it (diesel does not cache `sql_query` statements): the value is read
/// when the statement runs, not when it is prepared.
#[derive(Debug, Clone, Copy, QueryId)]
struct DataVersion;

impl Query for DataVersion {
    type SqlType = BigInt;
}

impl QueryFragment<Sqlite> for DataVersion {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("PRAGMA data_version");
        Ok(())
    }
}

impl RunQueryDsl<SqliteConnection> for DataVersion {}

impl ChangeStamp {
    /// Opens the dedicated connections to the SQLite file at `path` (which must exist).
    pub(crate) fn open(path: &str) -> Result<ChangeStamp, diesel::ConnectionError> {
        let mut slots = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let mut conn = SqliteConnection::establish(path)?;
            // They only read; `busy_timeout` covers a checkpoint holding the WAL index.
            conn.batch_execute("PRAGMA query_only = ON; PRAGMA busy_timeout = 10000;")
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
            slots.push(Mutex::new(Slot { conn, last: None }));
        }
        // The fast path reads the WAL index, which exists only in WAL mode (which the pool
        // sets on every connection, and which cannot be left while connections are open).
        let wal = slots
            .first()
            .map(|s| {
                let mut s = s.lock().unwrap_or_else(|e| e.into_inner());
                diesel::sql_query("PRAGMA journal_mode")
                    .get_result::<JournalMode>(&mut s.conn)
                    .is_ok_and(|m| m.journal_mode.eq_ignore_ascii_case("wal"))
            })
            .unwrap_or(false);
        Ok(ChangeStamp {
            slots,
            epoch: AtomicU64::new(0),
            next: AtomicUsize::new(0),
            // Without WAL, a path that cannot exist: every read takes the slow path.
            shm_path: if wal {
                format!("{path}-shm")
            } else {
                String::new()
            },
            shm: OnceLock::new(),
            last_header: Mutex::new([0; HEADER]),
        })
    }

    pub(crate) fn read(&self) -> Result<u64, CatalogError> {
        match self.read_header() {
            Some(stamp) => Ok(stamp),
            None => self.read_data_version(),
        }
    }

    /// The fast path: the WAL-index header at the start of the `-shm` file, which every
    /// commit rewrites (its `iChange` counter goes up by one per transaction) before any
    /// reader can see the commit, since readers find commits through that header. One
    /// `pread`, no lock: about ten times cheaper than a read transaction. SQLite keeps two
    /// copies and writes the second first; as SQLite's own readers do, the header counts
    /// only when both copies agree and its checksum holds. Otherwise (a write in progress,
    /// no `-shm` file) `None`, and the caller takes the slow path.
    fn read_header(&self) -> Option<u64> {
        let file = match self.shm.get() {
            Some(f) => f,
            None => {
                if self.shm_path.is_empty() {
                    return None;
                }
                let f = File::open(&self.shm_path).ok()?;
                self.shm.get_or_init(|| f)
            }
        };
        let mut both = [0u8; 2 * HEADER];
        file.read_exact_at(&mut both, 0).ok()?;
        let (first, second) = both.split_at(HEADER);
        // isInit (byte 12) and the checksum over the first 40 bytes.
        if first != second || first[12] == 0 || !checksum_holds(first) {
            return None;
        }
        let mut last = self.last_header.lock().unwrap_or_else(|e| e.into_inner());
        if last.as_slice() != first {
            last.copy_from_slice(first);
            self.epoch.fetch_add(1, Ordering::SeqCst);
        }
        // Read while holding the lock, after any bump of ours.
        Some(self.epoch.load(Ordering::SeqCst))
    }

    /// The slow path: `PRAGMA data_version` on a dedicated connection.
    fn read_data_version(&self) -> Result<u64, CatalogError> {
        let mut slot = self.free_slot();
        let v = DataVersion
            .get_result::<i64>(&mut slot.conn)
            .map_err(CatalogError::backend)?;
        if slot.last != Some(v) {
            self.epoch.fetch_add(1, Ordering::SeqCst);
            slot.last = Some(v);
        }
        // Read while the slot is still held, after any bump of ours.
        Ok(self.epoch.load(Ordering::SeqCst))
    }

    /// An idle connection if there is one, else waits for one.
    fn free_slot(&self) -> MutexGuard<'_, Slot> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.slots.len();
        for i in 0..n {
            if let Ok(slot) = self.slots[(start + i) % n].try_lock() {
                return slot;
            }
        }
        // A panic while holding a slot leaves its connection usable: no transaction spans
        // two statements here.
        self.slots[start % n]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The fast path is taken on a WAL database, and moves with commits of another
    /// connection; the slow path agrees.
    #[test]
    fn the_wal_index_header_is_read_and_moves_with_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = format!("{}/db.sqlite3", dir.path().display());
        let mut writer = SqliteConnection::establish(&path).unwrap();
        writer
            .batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let stamp = ChangeStamp::open(&path).unwrap();
        let a = stamp.read_header().expect("header readable");
        assert_eq!(stamp.read_header(), Some(a), "nothing committed");
        writer.batch_execute("INSERT INTO t VALUES (1);").unwrap();
        let b = stamp.read_header().expect("header readable");
        assert_ne!(a, b);
        assert_eq!(stamp.read_header(), Some(b));
        let c = stamp.read_data_version().unwrap();
        assert_ne!(c, b, "the slow path reports the commit too");
        writer.batch_execute("INSERT INTO t VALUES (2);").unwrap();
        assert_ne!(stamp.read_header(), Some(c));
    }

    #[test]
    fn a_database_not_in_wal_mode_takes_the_slow_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = format!("{}/db.sqlite3", dir.path().display());
        let mut writer = SqliteConnection::establish(&path).unwrap();
        writer.batch_execute("CREATE TABLE t (x INTEGER);").unwrap();
        let stamp = ChangeStamp::open(&path).unwrap();
        assert_eq!(stamp.read_header(), None);
        let a = stamp.read().unwrap();
        writer.batch_execute("INSERT INTO t VALUES (1);").unwrap();
        assert_ne!(stamp.read().unwrap(), a);
    }
}
