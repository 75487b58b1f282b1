-- A CI job token is tied to the credential that minted it (issue 12): revoking, rotating,
-- expiring or deleting that personal access token ends its job tokens. Authentication reads
-- the token, its user and that personal access token in one join.
-- Keep in step with ../../postgres/2026-12-01-000008_job_token_origin/up.sql
-- and crates/db/src/schema.rs.
--
-- Rows minted before this migration name no token: origin 'personal_access_token' with a
-- NULL id, which authentication refuses (mint a new job token).
ALTER TABLE job_tokens ADD COLUMN personal_access_token_id BIGINT
    REFERENCES personal_access_tokens (id) ON DELETE CASCADE;
ALTER TABLE job_tokens ADD COLUMN origin TEXT NOT NULL DEFAULT 'personal_access_token';
CREATE INDEX job_tokens_personal_access_token ON job_tokens (personal_access_token_id);
