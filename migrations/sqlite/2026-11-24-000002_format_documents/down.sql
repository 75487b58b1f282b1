DROP INDEX package_tags_name;
DROP INDEX packages_format_name;
DROP TABLE package_revisions;
