-- Change counters of derived documents (index pages, packuments, index files): one row per
-- (project, format, normalized name), and one with an empty name for the project's list of
-- names. Bumped in the transaction of every change to packages, files or tags.
CREATE TABLE package_revisions (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    format TEXT NOT NULL,
    normalized_name TEXT NOT NULL,
    revision BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, format, normalized_name)
);

-- Group- and instance-level resolution of one name across projects.
CREATE INDEX packages_format_name ON packages (format, normalized_name, project_id);
CREATE INDEX package_tags_name ON package_tags (name, package_id);
