//! Web UI support: shared secrets (the cookie signing key), password sessions and sign-in
//! throttling. Plain functions over `&mut DbConnection`, called by the `Catalog` impl in
//! `mod.rs`.

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::db;
use crate::connection::{per_backend, DbConnection};
use crate::schema::*;

/// Settings key under which a shared secret `name` is kept.
fn secret_key(name: &str) -> String {
    format!("secret:{name}")
}

pub(super) fn shared_secret(
    conn: &mut DbConnection,
    name: &str,
    generate: &str,
) -> Result<String, CatalogError> {
    let key = secret_key(name);
    let json = serde_json::Value::String(generate.to_owned()).to_string();
    let row = (settings::key.eq(&key), settings::value.eq(&json));
    per_backend!(conn, |c| diesel::insert_into(settings::table)
        .values(row)
        .on_conflict(settings::key)
        .do_nothing()
        .execute(c))
    .map_err(db)?;
    let stored: String = settings::table
        .filter(settings::key.eq(&key))
        .select(settings::value)
        .first(conn)
        .map_err(db)?;
    match serde_json::from_str::<serde_json::Value>(&stored) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(CatalogError::backend(std::io::Error::other(format!(
            "unreadable shared secret `{name}` in settings"
        )))),
    }
}

pub(super) fn create_web_session(
    conn: &mut DbConnection,
    s: &WebSession,
) -> Result<(), CatalogError> {
    diesel::insert_into(web_sessions::table)
        .values((
            web_sessions::id_digest.eq(&s.id_digest),
            web_sessions::user_id.eq(s.user_id.0),
            web_sessions::csrf_token.eq(&s.csrf_token),
            web_sessions::created_at.eq(s.created_at),
            web_sessions::expires_at.eq(s.expires_at),
        ))
        .execute(conn)
        .map_err(db)?;
    Ok(())
}

pub(super) fn web_session(
    conn: &mut DbConnection,
    id_digest: &str,
    now: Millis,
) -> Result<Option<WebSession>, CatalogError> {
    let row: Option<(String, i64, String, i64, i64)> = web_sessions::table
        .filter(web_sessions::id_digest.eq(id_digest))
        .filter(web_sessions::expires_at.gt(now))
        .select((
            web_sessions::id_digest,
            web_sessions::user_id,
            web_sessions::csrf_token,
            web_sessions::created_at,
            web_sessions::expires_at,
        ))
        .first(conn)
        .optional()
        .map_err(db)?;
    Ok(row.map(
        |(id_digest, user_id, csrf_token, created_at, expires_at)| WebSession {
            id_digest,
            user_id: UserId(user_id),
            csrf_token,
            created_at,
            expires_at,
        },
    ))
}

pub(super) fn delete_web_session(
    conn: &mut DbConnection,
    id_digest: &str,
) -> Result<(), CatalogError> {
    diesel::delete(web_sessions::table.filter(web_sessions::id_digest.eq(id_digest)))
        .execute(conn)
        .map_err(db)?;
    Ok(())
}

pub(super) fn delete_expired_web_sessions(
    conn: &mut DbConnection,
    now: Millis,
) -> Result<u64, CatalogError> {
    let n = diesel::delete(web_sessions::table.filter(web_sessions::expires_at.le(now)))
        .execute(conn)
        .map_err(db)?;
    Ok(n as u64)
}

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

/// Ends every web session of `user` (password changed, user deleted).
pub(super) fn delete_user_web_sessions(
    conn: &mut DbConnection,
    user: UserId,
) -> Result<u64, CatalogError> {
    let n = diesel::delete(web_sessions::table.filter(web_sessions::user_id.eq(user.0)))
        .execute(conn)
        .map_err(db)?;
    Ok(n as u64)
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
