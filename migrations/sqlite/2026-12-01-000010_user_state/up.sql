-- A user is 'active' or 'blocked' (GitLab's POST /users/:id/block, issue 12). A blocked
-- user keeps its memberships, projects and tokens, but no credential of its own works:
-- sign-in is refused, its web sessions were deleted by the block, and its personal access
-- tokens and its CI job tokens are refused at authentication.
-- Keep in step with ../../postgres/2026-12-01-000010_user_state/up.sql
-- and crates/db/src/schema.rs.
ALTER TABLE users ADD COLUMN state TEXT NOT NULL DEFAULT 'active'
    CHECK (state IN ('active', 'blocked'));
