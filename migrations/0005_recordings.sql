-- Session recordings: one row per recorded session once its teardown collected (or failed to collect)
-- the WebM. The artifact itself lives in the artifact store under storage_key; the sweeper deletes it
-- after delete_after (created_at + the workspace's recording_retention_days, fixed at creation) and
-- keeps the row with deleted_at set, so the API can tell "deleted after retention" from "never made".
-- workspaces.recording_retention_days (1..3650, default 30) exists since 0001.
CREATE TABLE recordings (
  session_id       text PRIMARY KEY REFERENCES sessions(id),
  workspace_id     text NOT NULL REFERENCES workspaces(id),
  status           text NOT NULL CHECK (status IN ('available','failed')),
  storage_key      text,
  content_type     text NOT NULL DEFAULT 'video/webm',
  size_bytes       bigint CHECK (size_bytes >= 0),
  duration_seconds double precision CHECK (duration_seconds >= 0),
  frames           integer,
  -- Why no artifact was made (status 'failed'): words for operators, never page content.
  error            text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  delete_after     timestamptz NOT NULL,
  deleted_at       timestamptz,
  CHECK (status <> 'available' OR (storage_key IS NOT NULL AND size_bytes IS NOT NULL))
);
CREATE INDEX recordings_due ON recordings (delete_after) WHERE deleted_at IS NULL AND status = 'available';
CREATE INDEX recordings_workspace ON recordings (workspace_id, session_id);
