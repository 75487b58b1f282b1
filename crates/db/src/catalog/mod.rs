//! The [`Catalog`](packyard_core::ports::Catalog) port over diesel, one module per entity
//! (users, tokens, groups, projects, members, packages, files, tags, revisions, settings,
//! protection rules, cleanup policies, web sessions and sign-in throttling). Each module
//! holds plain functions over `&mut DbConnection`; `port.rs` implements the trait by running
//! them on the blocking pool ([`DbCatalog::run`](crate::DbCatalog)). This file holds what the
//! modules share: error mapping, the write transaction, `LOWER`, paging and `LIKE` patterns.
//!
//! Races are decided by the database, never by process-local locks (DESIGN.md, "Scale"):
//! unique constraints turn a second insert into
//! [`CatalogError::Conflict`](packyard_core::ports::CatalogError::Conflict), and
//! `packages::publish_file` serializes publishers of one package on the package row
//! (PostgreSQL row lock) or on the write lock (SQLite `BEGIN IMMEDIATE`).

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use crate::connection::{write_transaction, DbConnection};

mod cleanup;
mod files;
mod groups;
mod logins;
#[cfg(test)]
mod management_tests;
mod members;
mod namespaces;
#[cfg(test)]
mod package_admin_tests;
mod packages;
mod port;
mod projects;
mod protection;
mod reach;
mod revisions;
mod sessions;
mod settings;
#[cfg(test)]
mod stamp_tests;
mod tags;
#[cfg(test)]
mod tests;
mod tokens;
mod users;
#[cfg(test)]
mod web_tests;

diesel::define_sql_function! {
    /// SQL `LOWER`, on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

pub(super) fn now() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

pub(super) fn is_unique_violation(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Maps a diesel error: a unique violation is a `Conflict` (with a generic text, callers
/// that know better use [`conflict_as`]), a foreign key violation means a referenced row is
/// missing (`NotFound`), anything else is a backend failure.
pub(super) fn db(e: DieselError) -> CatalogError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            CatalogError::Conflict("has already been taken".into())
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            CatalogError::NotFound
        }
        e => CatalogError::backend(e),
    }
}

/// Like [`db`], with the conflict text shown to the client.
pub(super) fn conflict_as(message: &'static str) -> impl FnOnce(DieselError) -> CatalogError {
    move |e| {
        if is_unique_violation(&e) {
            CatalogError::Conflict(message.into())
        } else {
            db(e)
        }
    }
}

/// `Err(NotFound)` when an update or delete touched no row.
pub(super) fn found(rows: usize) -> Result<(), CatalogError> {
    if rows == 0 {
        Err(CatalogError::NotFound)
    } else {
        Ok(())
    }
}

/// Carries either kind of error through diesel's transaction machinery.
enum TxError {
    Catalog(CatalogError),
    Db(DieselError),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        TxError::Db(e)
    }
}

/// A write transaction (`BEGIN IMMEDIATE` on SQLite) whose body speaks `CatalogError`.
pub(super) fn tx<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, CatalogError>,
) -> Result<T, CatalogError> {
    write_transaction(conn, |c| f(c).map_err(TxError::Catalog)).map_err(|e| match e {
        TxError::Catalog(e) => e,
        TxError::Db(e) => db(e),
    })
}

/// `LIKE` pattern matching `needle` anywhere, with `%`, `_` and `\` taken literally
/// (used with `ESCAPE '\'`, which SQLite needs spelled out).
pub(super) fn contains_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for ch in needle.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

pub(super) fn keyset_after(options: &ListOptions) -> Option<i64> {
    match options.paging {
        Paging::Keyset { after_id, .. } => after_id,
        Paging::Offset(_) => None,
    }
}

pub(super) fn limit_offset(paging: Paging) -> (i64, i64) {
    match paging {
        Paging::Offset(p) => (p.per_page.max(0), p.offset().max(0)),
        Paging::Keyset { per_page, .. } => (per_page.max(0), 0),
    }
}

/// Large `IN (...)` lists are split so no backend meets its bind-parameter limit.
pub(super) const IN_CHUNK: usize = 5_000;
