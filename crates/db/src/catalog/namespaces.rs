//! Claims in the shared URL namespaces: usernames, top-level group paths and group and
//! project full paths, checked across tables and serialized by [`lock_namespaces`].

use diesel::prelude::*;
use packyard_core::ports::CatalogError;

use super::{db, lower};
use crate::connection::DbConnection;
use crate::schema::*;

/// Serializes the transactions that claim a name in the shared namespaces (usernames and
/// top-level group paths; group and project full paths), which check one table and then
/// insert into another: two unique indexes on two tables cannot see each other, so under
/// READ COMMITTED a user `x` and a group `X` created at once would both pass their check.
/// On PostgreSQL this takes one transaction-scoped advisory lock, held until commit or
/// rollback; call it first in the transaction, before any row is written, so a holder never
/// waits on a row lock of a waiter. SQLite needs nothing: `BEGIN IMMEDIATE` already holds
/// the database's one write lock.
pub(super) fn lock_namespaces(conn: &mut DbConnection) -> Result<(), CatalogError> {
    /// Any fixed key, the same in every process: "packyard" in ASCII, as an `i64`.
    const NAMESPACE_LOCK: i64 = 0x7061_636b_7961_7264;
    if let DbConnection::Pg(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(NAMESPACE_LOCK)
            .execute(c)
            .map_err(db)?;
    }
    Ok(())
}

/// Groups and projects share one URL space (`acme/tools` is either a subgroup or a
/// project), as GitLab's routes do, and paths compare case-insensitively there (GitLab's
/// rule: `Secret` and `secret` cannot both exist at one level). Each table's unique index on
/// `lower(full_path)` covers its own rows; these checks cover the other table.
pub(super) fn path_free_of_projects(
    conn: &mut DbConnection,
    full_path: &str,
) -> Result<(), CatalogError> {
    let taken = diesel::select(diesel::dsl::exists(
        projects::table.filter(lower(projects::full_path).eq(lower(full_path))),
    ))
    .get_result::<bool>(conn)
    .map_err(db)?;
    if taken {
        return Err(CatalogError::Conflict("path has already been taken".into()));
    }
    Ok(())
}

pub(super) fn path_free_of_groups(
    conn: &mut DbConnection,
    full_path: &str,
) -> Result<(), CatalogError> {
    let taken = diesel::select(diesel::dsl::exists(
        groups::table.filter(lower(groups::full_path).eq(lower(full_path))),
    ))
    .get_result::<bool>(conn)
    .map_err(db)?;
    if taken {
        return Err(CatalogError::Conflict("path has already been taken".into()));
    }
    Ok(())
}

/// A top-level group and a user's personal namespace share the first path segment, as on
/// GitLab: a group `alice` beside the user `Alice` would let its owner publish under
/// `alice/...` paths that look like Alice's own.
pub(super) fn namespace_free_of_users(
    conn: &mut DbConnection,
    path: &str,
) -> Result<(), CatalogError> {
    let taken = diesel::select(diesel::dsl::exists(
        users::table.filter(lower(users::username).eq(lower(path))),
    ))
    .get_result::<bool>(conn)
    .map_err(db)?;
    if taken {
        return Err(CatalogError::Conflict("path has already been taken".into()));
    }
    Ok(())
}

/// The other side of [`namespace_free_of_users`]: a username may not be a top-level group.
pub(super) fn username_free_of_groups(
    conn: &mut DbConnection,
    username: &str,
) -> Result<(), CatalogError> {
    let taken = diesel::select(diesel::dsl::exists(
        groups::table
            .filter(groups::parent_id.is_null())
            .filter(lower(groups::path).eq(lower(username))),
    ))
    .get_result::<bool>(conn)
    .map_err(db)?;
    if taken {
        return Err(CatalogError::Conflict(
            "Username has already been taken".into(),
        ));
    }
    Ok(())
}
