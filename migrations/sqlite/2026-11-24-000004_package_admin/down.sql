DROP INDEX packages_project_format;
DROP INDEX packages_project_version;
DROP INDEX packages_project_name;
DROP INDEX package_cleanup_policies_next_run_at;
DROP TABLE package_cleanup_policies;
DROP TABLE package_protection_rules;
