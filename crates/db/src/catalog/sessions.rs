//! Web UI support: shared secrets (the cookie signing key) and password sessions.

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
