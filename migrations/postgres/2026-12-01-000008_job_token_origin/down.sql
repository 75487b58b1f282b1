DROP INDEX job_tokens_personal_access_token;
ALTER TABLE job_tokens DROP COLUMN origin;
ALTER TABLE job_tokens DROP COLUMN personal_access_token_id;
