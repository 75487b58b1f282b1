-- Paths and usernames are unique case-insensitively, as on GitLab: `Secret` and `secret`
-- cannot both exist at one level (a full path is the parent's full path plus the path, so a
-- unique lower(full_path) is a unique lower(path) per parent). The same indexes serve the
-- case-insensitive lookups by path and username. Paths and usernames are ASCII (validated),
-- where lower() agrees on both backends.
--
-- Existing rows that differ only in case make this migration fail; `packyard migrate`
-- checks for them first and names each clash (DbCatalog::migrate), so that an operator
-- renames all but one of each and runs it again. Nothing is renamed behind anyone's back.
CREATE UNIQUE INDEX groups_full_path_ci ON groups (lower(full_path));
CREATE UNIQUE INDEX projects_full_path_ci ON projects (lower(full_path));
CREATE UNIQUE INDEX users_username_ci ON users (lower(username));
