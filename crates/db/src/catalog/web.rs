//! Web UI support: shared secrets (the cookie signing key), password sessions and sign-in
//! throttling. Plain functions over `&mut DbConnection`, called by the `Catalog` impl in
//! `mod.rs`.

use diesel::prelude::*;
use packyard_core::model::*;
use packyard_core::ports::CatalogError;

use super::{db, tx};
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

pub(super) fn record_login_failure(
    conn: &mut DbConnection,
    username: &str,
    now: Millis,
    window: Millis,
    max_failures: i64,
    lockout: Millis,
) -> Result<LoginFailures, CatalogError> {
    let username = username.to_lowercase();
    tx(conn, |conn| {
        let previous = read_failures(conn, &username)?;
        let mut next = match previous {
            Some(p) if now - p.first_failed_at <= window => LoginFailures {
                failures: p.failures + 1,
                ..p
            },
            _ => LoginFailures {
                failures: 1,
                first_failed_at: now,
                locked_until: None,
            },
        };
        if next.failures >= max_failures {
            next.locked_until = Some(now + lockout);
        }
        let values = (
            login_failures::failures.eq(next.failures),
            login_failures::first_failed_at.eq(next.first_failed_at),
            login_failures::locked_until.eq(next.locked_until),
        );
        if previous.is_some() {
            diesel::update(login_failures::table.filter(login_failures::username.eq(&username)))
                .set(values)
                .execute(conn)
                .map_err(db)?;
        } else {
            diesel::insert_into(login_failures::table)
                .values((login_failures::username.eq(&username), values))
                .execute(conn)
                .map_err(db)?;
        }
        Ok(next)
    })
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
