DROP TABLE login_failures;
DROP INDEX web_sessions_expires_at;
DROP INDEX web_sessions_user;
DROP TABLE web_sessions;
