-- Packyard catalog, PostgreSQL. Keep in step with ../../sqlite/2026-11-24-000001_initial/up.sql
-- and crates/db/src/schema.rs (same tables, same columns, same order).
-- Ids are BIGSERIAL (BIGINT).
-- Times are BIGINT milliseconds since the Unix epoch; JSON documents are TEXT.

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE groups (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    full_path TEXT NOT NULL UNIQUE,
    parent_id BIGINT REFERENCES groups (id),
    visibility TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    package_settings TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
CREATE INDEX groups_parent_id ON groups (parent_id);

CREATE TABLE projects (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    full_path TEXT NOT NULL UNIQUE,
    group_id BIGINT REFERENCES groups (id),
    owner_user_id BIGINT REFERENCES users (id),
    visibility TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    registry_access TEXT NOT NULL,
    creator_id BIGINT,
    created_at BIGINT NOT NULL,
    CHECK ((group_id IS NULL) <> (owner_user_id IS NULL))
);
CREATE INDEX projects_group_id ON projects (group_id);

CREATE TABLE members (
    id BIGSERIAL PRIMARY KEY,
    source_type TEXT NOT NULL CHECK (source_type IN ('group', 'project')),
    source_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    access_level SMALLINT NOT NULL,
    expires_at TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (source_type, source_id, user_id)
);
CREATE INDEX members_user_id ON members (user_id);

CREATE TABLE personal_access_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    expires_at TEXT,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    last_used_at BIGINT,
    digest TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX personal_access_tokens_user_id ON personal_access_tokens (user_id);

CREATE TABLE deploy_tokens (
    id BIGSERIAL PRIMARY KEY,
    project_id BIGINT REFERENCES projects (id),
    group_id BIGINT REFERENCES groups (id),
    name TEXT NOT NULL,
    username TEXT NOT NULL,
    scopes TEXT NOT NULL,
    expires_at BIGINT,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    digest TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    CHECK ((project_id IS NULL) <> (group_id IS NULL))
);

CREATE TABLE job_tokens (
    id BIGSERIAL PRIMARY KEY,
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

CREATE TABLE job_token_allowlist (
    target_project_id BIGINT NOT NULL REFERENCES projects (id),
    source_project_id BIGINT NOT NULL REFERENCES projects (id),
    PRIMARY KEY (target_project_id, source_project_id)
);

CREATE TABLE packages (
    id BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    format TEXT NOT NULL,
    name TEXT NOT NULL,
    normalized_name TEXT NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_downloaded_at BIGINT,
    UNIQUE (project_id, format, normalized_name, version)
);
-- The unique index above serves lookups by project + format + normalized name (+ version).
CREATE INDEX packages_project_created ON packages (project_id, created_at);

CREATE TABLE package_files (
    id BIGSERIAL PRIMARY KEY,
    package_id BIGINT NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    sha1 TEXT NOT NULL,
    md5 TEXT NOT NULL,
    sha512 TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    build_info TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX package_files_package_file_name ON package_files (package_id, file_name);
CREATE INDEX package_files_sha256 ON package_files (sha256);

CREATE TABLE package_tags (
    id BIGSERIAL PRIMARY KEY,
    package_id BIGINT NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (package_id, name)
);

CREATE TABLE package_build_infos (
    id BIGSERIAL PRIMARY KEY,
    package_id BIGINT NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    user_id BIGINT,
    pipeline_id BIGINT NOT NULL,
    job_id BIGINT NOT NULL,
    git_ref TEXT NOT NULL,
    sha TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX package_build_infos_package_id ON package_build_infos (package_id, id);

CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
