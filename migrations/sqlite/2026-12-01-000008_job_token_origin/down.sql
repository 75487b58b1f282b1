-- SQLite cannot drop a column that is part of a foreign key: rebuild the table.
DROP INDEX job_tokens_personal_access_token;
CREATE TABLE job_tokens_before_origin (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    pipeline_id BIGINT NOT NULL,
    job_id BIGINT NOT NULL,
    git_ref TEXT NOT NULL,
    sha TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
INSERT INTO job_tokens_before_origin
    SELECT id, project_id, user_id, pipeline_id, job_id, git_ref, sha, expires_at, digest,
           created_at
    FROM job_tokens;
DROP TABLE job_tokens;
ALTER TABLE job_tokens_before_origin RENAME TO job_tokens;
-- The indexes of 2026-11-24-000003_management went with the old table.
CREATE INDEX job_tokens_project_id ON job_tokens (project_id);
CREATE INDEX job_tokens_user_id ON job_tokens (user_id);
