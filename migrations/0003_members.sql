-- Workspace members and their roles. A workspace created by the CLI starts with none; once it has
-- an owner, the API refuses to demote or remove the last one (checked under row locks).
CREATE TABLE members (
  id           text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces(id),
  email        text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email ~ '^[^@\s]+@[^@\s]+$'),
  role         text NOT NULL CHECK (role IN ('owner','admin','member')),
  created_at   timestamptz NOT NULL DEFAULT now()
);
-- Addresses are compared case-insensitively: Ann@Example.com and ann@example.com are one member.
CREATE UNIQUE INDEX members_workspace_email ON members (workspace_id, lower(email));
CREATE INDEX members_workspace_id ON members (workspace_id, id);
-- The owner rows are what a demotion or removal locks (SELECT … FOR UPDATE).
CREATE INDEX members_workspace_owners ON members (workspace_id, id) WHERE role = 'owner';

-- GET /v1/audit?target=<id> filters within one workspace by target id.
CREATE INDEX audit_log_workspace_target ON audit_log (workspace_id, target_id, id);
