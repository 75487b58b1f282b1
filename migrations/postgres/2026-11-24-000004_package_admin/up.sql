-- Package administration: protection rules, cleanup policies, and the indexes that keep the
-- package listings (project and group, every order_by) served from an index.
-- Keep in step with ../../sqlite/2026-11-24-000004_package_admin/up.sql
-- and crates/db/src/schema.rs.

CREATE TABLE package_protection_rules (
    id BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    package_name_pattern TEXT NOT NULL,
    package_type TEXT NOT NULL,
    minimum_access_level_for_push TEXT,
    minimum_access_level_for_delete TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (project_id, package_type, package_name_pattern)
);

CREATE TABLE package_cleanup_policies (
    project_id BIGINT PRIMARY KEY NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    keep_n_duplicated_package_files BIGINT,
    next_run_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX package_cleanup_policies_next_run_at ON package_cleanup_policies (next_run_at);

-- order_by=name|version|type within a project, id as the tie-breaker.
CREATE INDEX packages_project_name ON packages (project_id, name, id);
CREATE INDEX packages_project_version ON packages (project_id, version, id);
CREATE INDEX packages_project_format ON packages (project_id, format, id);
