-- Indexes for the management API's listings and cascading deletes (issue #3 part A):
-- a user's personal projects, a project's or group's deploy tokens, a project's job tokens,
-- and the allowlist entries that name a project as the source. Listings of users, groups and
-- projects page on their primary keys and unique paths, which are already indexed.
CREATE INDEX projects_owner_user_id ON projects (owner_user_id);
CREATE INDEX deploy_tokens_project_id ON deploy_tokens (project_id);
CREATE INDEX deploy_tokens_group_id ON deploy_tokens (group_id);
CREATE INDEX job_tokens_project_id ON job_tokens (project_id);
CREATE INDEX job_tokens_user_id ON job_tokens (user_id);
CREATE INDEX job_token_allowlist_source ON job_token_allowlist (source_project_id);
