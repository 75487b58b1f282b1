//! Sign-in throttling of the web UI: failures per username, reserved before a password is
//! checked so concurrent guesses cannot exceed the limit.

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::db;
use crate::connection::DbConnection;
use crate::schema::*;

fn read_failures(
    conn: &mut DbConnection,
    username: &str,
) -> Result<Option<LoginFailures>, CatalogError> {
    let row: Option<(i64, i64, Option<i64>)> = login_failures::table
        .filter(login_failures::username.eq(username))
        .select((
            login_failures::failures,
            login_failures::first_failed_at,
            login_failures::locked_until,
        ))
        .first(conn)
        .optional()
        .map_err(db)?;
    Ok(
        row.map(|(failures, first_failed_at, locked_until)| LoginFailures {
            failures,
            first_failed_at,
            locked_until,
        }),
    )
}

pub(super) fn login_failures(
    conn: &mut DbConnection,
    username: &str,
) -> Result<LoginFailures, CatalogError> {
    Ok(read_failures(conn, &username.to_lowercase())?.unwrap_or_default())
}

#[derive(QueryableByName)]
struct FailureRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    failures: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    first_failed_at: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    locked_until: Option<i64>,
}

/// One upsert, so that concurrent sign-ins (threads, processes) each see their own count:
/// PostgreSQL locks the conflicting row for the `DO UPDATE`, SQLite runs the statement under
/// its write lock. A count starts again (at 1) once the window has passed since its first
/// attempt, or once its lockout is over. The attempt that goes past `$3` (max) starts the
/// lockout; attempts during a lockout do not extend it.
/// Binds: $1 username, $2 now, $3 max attempts, $4 window, $5 lockout.
const RESERVE_LOGIN_ATTEMPT: &str = "\
INSERT INTO login_failures (username, failures, first_failed_at, locked_until) \
VALUES ($1, 1, $2, NULL) \
ON CONFLICT (username) DO UPDATE SET \
  failures = CASE WHEN (login_failures.locked_until IS NOT NULL AND login_failures.locked_until <= $2) \
                    OR (login_failures.locked_until IS NULL AND login_failures.first_failed_at + $4 < $2) \
             THEN 1 ELSE login_failures.failures + 1 END, \
  first_failed_at = CASE WHEN (login_failures.locked_until IS NOT NULL AND login_failures.locked_until <= $2) \
                    OR (login_failures.locked_until IS NULL AND login_failures.first_failed_at + $4 < $2) \
             THEN $2 ELSE login_failures.first_failed_at END, \
  locked_until = CASE WHEN (login_failures.locked_until IS NOT NULL AND login_failures.locked_until <= $2) \
                    OR (login_failures.locked_until IS NULL AND login_failures.first_failed_at + $4 < $2) \
             THEN NULL \
             WHEN login_failures.failures + 1 > $3 THEN COALESCE(login_failures.locked_until, $2 + $5) \
             ELSE NULL END \
RETURNING failures, first_failed_at, locked_until";

pub(super) fn reserve_login_attempt(
    conn: &mut DbConnection,
    username: &str,
    now: Millis,
    limits: LoginLimits,
) -> Result<LoginFailures, CatalogError> {
    use diesel::sql_types::{BigInt, Text};
    let username = username.to_lowercase();
    let query = |sql: String| {
        diesel::sql_query(sql)
            .bind::<Text, _>(username.clone())
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(limits.max_attempts)
            .bind::<BigInt, _>(limits.window)
            .bind::<BigInt, _>(limits.lockout)
    };
    // SQLite numbers its parameters `?N`, PostgreSQL `$N`; the statement is the same.
    let row = match conn {
        DbConnection::Sqlite(c) => {
            query(RESERVE_LOGIN_ATTEMPT.replace('$', "?")).get_result::<FailureRow>(c)
        }
        DbConnection::Pg(c) => query(RESERVE_LOGIN_ATTEMPT.to_owned()).get_result::<FailureRow>(c),
    }
    .map_err(db)?;
    Ok(LoginFailures {
        failures: row.failures,
        first_failed_at: row.first_failed_at,
        locked_until: row.locked_until,
    })
}

/// Gives back an attempt [`reserve_login_attempt`] took for a sign-in that never checked
/// its password (the hasher was busy).
pub(super) fn release_login_attempt(
    conn: &mut DbConnection,
    username: &str,
) -> Result<(), CatalogError> {
    diesel::update(
        login_failures::table
            .filter(login_failures::username.eq(username.to_lowercase()))
            .filter(login_failures::failures.gt(0)),
    )
    .set(login_failures::failures.eq(login_failures::failures - 1))
    .execute(conn)
    .map_err(db)?;
    Ok(())
}

pub(super) fn clear_login_failures(
    conn: &mut DbConnection,
    username: &str,
) -> Result<(), CatalogError> {
    diesel::delete(
        login_failures::table.filter(login_failures::username.eq(username.to_lowercase())),
    )
    .execute(conn)
    .map_err(db)?;
    Ok(())
}
