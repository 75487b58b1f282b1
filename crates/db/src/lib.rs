//! packyard-db: Packyard's catalog on SQLite or PostgreSQL, through diesel.
//!
//! [`DbCatalog`] implements the core's [`Catalog`](packyard_core::ports::Catalog) port: users,
//! groups, projects, members, tokens, packages, package files, tags, build infos and instance
//! settings, modelled on GitLab's Package Registry
//! (<https://docs.gitlab.com/user/packages/package_registry/>). Format-specific data lives in
//! JSON text columns, so a new format needs no migration.
//!
//! One code base serves both backends: [`connection::DbConnection`] is a diesel
//! `MultiConnection` (<https://docs.diesel.rs/2.3.x/diesel/derive.MultiConnection.html>) and
//! [`schema`] is backend-neutral. The backend comes from the URL scheme (`sqlite://PATH`,
//! `postgres://...`, `postgresql://...`); anything else is a start-up error. Migrations are
//! embedded, one tree per backend with the same names (`migrations/sqlite`,
//! `migrations/postgres`), and run by [`DbCatalog::migrate`].
//!
//! Diesel is synchronous: every query runs on an r2d2 pool inside
//! `tokio::task::spawn_blocking`, never on the async workers.

mod catalog;
pub mod connection;
mod rows;
pub mod schema;
mod stamp;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use diesel::r2d2::{self, Pool};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use packyard_core::ports::CatalogError;

pub use connection::{Backend, DbConnection};
use connection::{Manager, SqlitePragmas};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Start-up and maintenance errors of the catalog (request-time errors are
/// [`CatalogError`]s).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL's scheme names no supported backend.
    #[error(
        "unknown database URL scheme `{0}`: use sqlite://PATH, postgres://... or postgresql://..."
    )]
    UnknownScheme(String),
    /// The URL is not usable as it is.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The folder of the SQLite file could not be created.
    #[error("cannot create the database folder {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The pool could not open its connections (database down, wrong credentials, ...).
    #[error("cannot connect to the {backend} database: {source}")]
    Connect {
        backend: &'static str,
        #[source]
        source: r2d2::PoolError,
    },
    /// The SQLite connections that read the change stamp could not be opened.
    #[error("cannot open the sqlite change-stamp connections: {0}")]
    ChangeStamp(#[source] diesel::ConnectionError),
    /// A connection could not be taken from the pool.
    #[error("no database connection available: {0}")]
    Pool(#[source] r2d2::PoolError),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Paths or usernames that differ only in case block the migration that makes them
    /// unique case-insensitively.
    #[error(
        "cannot make paths and usernames case-insensitive: these differ only in case: {0}. \
         Rename or delete all but one of each (PUT /groups/:id, PUT /projects/:id or \
         PUT /users/:id with the running version), then run `packyard migrate` again"
    )]
    CaseCollisions(String),
    /// The blocking task running the work died.
    #[error("database task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
}

/// The migration that adds the case-insensitive unique indexes.
const CASE_INSENSITIVE_MIGRATION: &str = "paths_case_insensitive";

#[derive(diesel::QueryableByName)]
struct Collision {
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Before the case-insensitive indexes are created on an existing catalog: names every
/// group, project and user whose path differs from another's only in case, so that the
/// operator knows what to rename, instead of a bare "unique constraint failed".
fn case_collisions_before(conn: &mut DbConnection) -> Result<(), DbError> {
    use diesel::RunQueryDsl;
    let migrations = match conn {
        DbConnection::Sqlite(_) => SQLITE_MIGRATIONS,
        DbConnection::Pg(_) => POSTGRES_MIGRATIONS,
    };
    let applied = conn.applied_migrations().map_err(DbError::Migration)?;
    if applied.is_empty() {
        return Ok(()); // a new catalog: no rows yet
    }
    let pending = conn
        .pending_migrations(migrations)
        .map_err(DbError::Migration)?;
    if !pending
        .iter()
        .any(|m| m.name().to_string().ends_with(CASE_INSENSITIVE_MIGRATION))
    {
        return Ok(());
    }
    let clashes = diesel::sql_query(
        "SELECT 'group' AS kind, full_path AS name FROM groups WHERE lower(full_path) IN \
           (SELECT lower(full_path) FROM groups GROUP BY lower(full_path) HAVING COUNT(*) > 1) \
         UNION ALL SELECT 'project', full_path FROM projects WHERE lower(full_path) IN \
           (SELECT lower(full_path) FROM projects GROUP BY lower(full_path) HAVING COUNT(*) > 1) \
         UNION ALL SELECT 'user', username FROM users WHERE lower(username) IN \
           (SELECT lower(username) FROM users GROUP BY lower(username) HAVING COUNT(*) > 1) \
         ORDER BY 1, 2",
    )
    .load::<Collision>(conn)
    .map_err(|e| DbError::Migration(Box::new(e)))?;
    if clashes.is_empty() {
        return Ok(());
    }
    Err(DbError::CaseCollisions(
        clashes
            .iter()
            .map(|c| format!("{} `{}`", c.kind, c.name))
            .collect::<Vec<_>>()
            .join(", "),
    ))
}

/// The catalog over a pool of SQLite or PostgreSQL connections. Cheap to clone.
#[derive(Clone)]
pub struct DbCatalog {
    pool: Pool<Manager>,
    backend: Backend,
    /// SQLite only: the change stamp's dedicated connections (`stamp`).
    stamp: Option<Arc<stamp::ChangeStamp>>,
}

impl std::fmt::Debug for DbCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The PostgreSQL URL may carry a password: show only the backend.
        f.debug_struct("DbCatalog")
            .field("backend", &self.backend.name())
            .finish_non_exhaustive()
    }
}

impl DbCatalog {
    /// Opens a pool of `pool_size` connections to `url`, choosing the backend by its scheme:
    /// `sqlite://PATH` (the parent folder of PATH is created), `postgres://` or
    /// `postgresql://`. Does not migrate: call [`DbCatalog::migrate`].
    ///
    /// Blocks while the first connections open (up to 30 s when the server does not
    /// answer); call it at start-up.
    pub fn connect(url: &str, pool_size: u32) -> Result<DbCatalog, DbError> {
        let backend = Backend::from_url(url)?;
        if let Backend::Sqlite { path } = &backend {
            if let Some(parent) = Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent).map_err(|source| DbError::CreateDir {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
        }
        let pool = Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(Duration::from_secs(30))
            // A ping before each use guards against dropped PostgreSQL connections; a SQLite
            // file connection cannot drop, so it would only cost a query per checkout.
            .test_on_check_out(!matches!(backend, Backend::Sqlite { .. }))
            .connection_customizer(Box::new(SqlitePragmas))
            .build(Manager {
                backend: backend.clone(),
            })
            .map_err(|source| DbError::Connect {
                backend: backend.name(),
                source,
            })?;
        // Opened after the pool, which has created the file.
        let stamp = match &backend {
            Backend::Sqlite { path } => Some(Arc::new(
                stamp::ChangeStamp::open(path).map_err(DbError::ChangeStamp)?,
            )),
            Backend::Postgres { .. } => None,
        };
        tracing::info!(backend = backend.name(), pool_size, "catalog connected");
        Ok(DbCatalog {
            pool,
            backend,
            stamp,
        })
    }

    /// The change stamp (`Catalog::change_stamp`), outside the trait for callers that hold
    /// a `DbCatalog`.
    pub fn change_stamp(&self) -> Result<Option<u64>, CatalogError> {
        self.stamp.as_ref().map(|s| s.read()).transpose()
    }

    /// The backend in use.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Runs the pending embedded migrations of the backend in use and returns the versions
    /// it applied (empty when the schema was up to date).
    pub async fn migrate(&self) -> Result<Vec<String>, DbError> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(DbError::Pool)?;
            let migrations = match &*conn {
                DbConnection::Sqlite(_) => SQLITE_MIGRATIONS,
                DbConnection::Pg(_) => POSTGRES_MIGRATIONS,
            };
            case_collisions_before(&mut conn)?;
            let applied = conn
                .run_pending_migrations(migrations)
                .map_err(DbError::Migration)?;
            Ok(applied
                .into_iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>())
        })
        .await
        .map_err(DbError::Task)?
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, CatalogError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, CatalogError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(CatalogError::backend)?;
            f(&mut conn)
        })
        .await
        .map_err(CatalogError::backend)?
    }

    /// Like [`DbCatalog::run`], for the small indexed reads every request makes (project,
    /// token and membership lookups, document revisions). On SQLite they run right here when
    /// a connection is idle: a WAL read takes microseconds and never waits for writers, while
    /// the trip through the blocking pool costs two thread switches. PostgreSQL reads cross
    /// the network, so they always go through the blocking pool.
    pub(crate) async fn run_read<T, F>(&self, f: F) -> Result<T, CatalogError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, CatalogError> + Send + 'static,
        T: Send + 'static,
    {
        if let Backend::Sqlite { .. } = self.backend {
            if let Some(mut conn) = self.pool.try_get() {
                return f(&mut conn);
            }
        }
        self.run(f).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    fn migration_names(backend: &str) -> BTreeSet<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../migrations")
            .join(backend);
        let mut names = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                let name = entry.file_name().to_string_lossy().into_owned();
                for file in ["up.sql", "down.sql"] {
                    assert!(
                        entry.path().join(file).is_file(),
                        "{backend}/{name} has no {file}"
                    );
                }
                names.insert(name);
            }
        }
        names
    }

    #[test]
    fn migration_trees_have_the_same_names() {
        let sqlite = migration_names("sqlite");
        let postgres = migration_names("postgres");
        assert!(!sqlite.is_empty());
        assert_eq!(
            sqlite, postgres,
            "migrations/sqlite and migrations/postgres must hold the same migrations"
        );
    }
}
