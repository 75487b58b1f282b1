-- Web UI: password sessions and sign-in throttling.
-- Keep in step with ../../postgres/2026-11-24-000005_web_sessions/up.sql
-- and crates/db/src/schema.rs.

-- A signed-in browser. The cookie carries a random secret; only its sha256 is stored.
CREATE TABLE web_sessions (
    id_digest TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);

-- Failed sign-ins per (lower-cased) username, for throttling.
CREATE TABLE login_failures (
    username TEXT PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL,
    first_failed_at BIGINT NOT NULL,
    locked_until BIGINT
);
