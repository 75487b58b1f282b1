DROP INDEX job_token_allowlist_source;
DROP INDEX job_tokens_user_id;
DROP INDEX job_tokens_project_id;
DROP INDEX deploy_tokens_group_id;
DROP INDEX deploy_tokens_project_id;
DROP INDEX projects_owner_user_id;
