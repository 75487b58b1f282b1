DROP INDEX users_username_ci;
DROP INDEX projects_full_path_ci;
DROP INDEX groups_full_path_ci;
