//! The connection type shared by both backends, the pool, and write transactions.
//!
//! [`DbConnection`] is a diesel `MultiConnection`
//! (<https://docs.diesel.rs/2.3.x/diesel/derive.MultiConnection.html>): one query, written
//! once against [`crate::schema`], runs on SQLite or PostgreSQL. The backend is picked from
//! the URL scheme by [`Backend::from_url`], never guessed (the derived `establish` would try
//! PostgreSQL first and hand anything else to SQLite).
//!
//! SQLite connections get their pragmas when the pool opens them
//! (<https://www.sqlite.org/pragma.html>): WAL so readers never wait for the writer,
//! `busy_timeout` so writers queue instead of failing with `SQLITE_BUSY`, `foreign_keys`
//! (off by default in SQLite), `synchronous=NORMAL` (safe in WAL mode).

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

use crate::DbError;

/// One connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A file path (relative or absolute), from `sqlite://PATH`.
    Sqlite { path: String },
    /// A libpq URL, `postgres://` or `postgresql://`, passed on unchanged.
    Postgres { url: String },
}

impl Backend {
    /// Chooses the backend by the URL scheme. `sqlite:///abs/file.db` is an absolute path,
    /// `sqlite://data/packyard.db` a relative one.
    pub fn from_url(url: &str) -> Result<Backend, DbError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(DbError::InvalidUrl(
                    "sqlite:// needs a file path, as in sqlite://data/packyard.db".into(),
                ));
            }
            return Ok(Backend::Sqlite {
                path: path.to_string(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Backend::Postgres {
                url: url.to_string(),
            });
        }
        match url.split_once(':') {
            Some((scheme, _)) if !scheme.is_empty() => {
                Err(DbError::UnknownScheme(scheme.to_string()))
            }
            _ => Err(DbError::InvalidUrl(
                "a database URL starts with sqlite://, postgres:// or postgresql://".into(),
            )),
        }
    }

    /// `sqlite` or `postgres`, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }
}

/// Opens connections of the backend chosen at start.
#[derive(Debug, Clone)]
pub(crate) struct Manager {
    pub(crate) backend: Backend,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.backend {
            Backend::Sqlite { path } => SqliteConnection::establish(path).map(DbConnection::Sqlite),
            Backend::Postgres { url } => PgConnection::establish(url).map(DbConnection::Pg),
        }
        .map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Sets the SQLite pragmas on every new pooled connection.
#[derive(Debug)]
pub(crate) struct SqlitePragmas;

impl CustomizeConnection<DbConnection, r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            // busy_timeout first: switching to WAL takes a lock that another new
            // connection may hold for a moment.
            c.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Runs `f` in a transaction meant to write.
///
/// On SQLite it starts with `BEGIN IMMEDIATE`, which takes the write lock up front: a
/// deferred transaction that reads and then writes can fail with `SQLITE_BUSY` when another
/// writer got there first (the busy handler cannot help a read lock that must be upgraded),
/// whereas an immediate one simply waits `busy_timeout` for its turn. On PostgreSQL it is a
/// plain `BEGIN` (READ COMMITTED); row locks serialize what must be serialized.
///
/// Nested `conn.transaction(..)` calls inside `f` become savepoints, as diesel's
/// transaction manager state lives in the inner connection.
pub(crate) fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Pg(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            match <DbConnection as TransactionManager<DbConnection>>::commit_transaction(conn) {
                Ok(()) => Ok(value),
                Err(commit_error) => {
                    // Same recovery as diesel's own `transaction`: try to roll back so the
                    // connection is usable again; the commit error is the one to report.
                    let _ =
                        <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(
                            conn,
                        );
                    Err(commit_error.into())
                }
            }
        }
        Err(e) => {
            <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// Runs the same code on the concrete connection of either backend, for the statements the
/// shared backend cannot express (`ON CONFLICT` upserts).
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::connection::DbConnection::Sqlite($c) => $body,
            $crate::connection::DbConnection::Pg($c) => $body,
        }
    };
}
pub(crate) use per_backend;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_by_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://data/packyard.db").ok(),
            Some(Backend::Sqlite {
                path: "data/packyard.db".into()
            })
        );
        assert_eq!(
            Backend::from_url("sqlite:///var/lib/packyard/db.sqlite").ok(),
            Some(Backend::Sqlite {
                path: "/var/lib/packyard/db.sqlite".into()
            })
        );
        for url in [
            "postgres://u@h/db",
            "postgresql://u@h:5433/db?sslmode=disable",
        ] {
            assert_eq!(
                Backend::from_url(url).ok(),
                Some(Backend::Postgres { url: url.into() })
            );
        }
    }

    #[test]
    fn unknown_scheme_is_refused_and_named() {
        match Backend::from_url("mysql://root@localhost/packyard") {
            Err(DbError::UnknownScheme(s)) => assert_eq!(s, "mysql"),
            other => panic!("expected UnknownScheme, got {other:?}"),
        }
        assert!(matches!(
            Backend::from_url("data/packyard.db"),
            Err(DbError::InvalidUrl(_))
        ));
        assert!(matches!(
            Backend::from_url("sqlite://"),
            Err(DbError::InvalidUrl(_))
        ));
    }
}
