-- Ventus Sessions: the source of truth. Forward-only; applied under an advisory lock by `ventus migrate`.

CREATE TABLE workspaces (
  id          text PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
  recording_retention_days integer NOT NULL DEFAULT 30 CHECK (recording_retention_days BETWEEN 1 AND 3650),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Only a hash of the key's secret is stored; the key id is the ULID in `vs_<ULID>.<secret>`.
CREATE TABLE api_keys (
  id           text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces(id),
  secret_hash  bytea NOT NULL,
  scopes       text[] NOT NULL,
  name         text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

-- Pool settings: one pool per region x runtime_kind.
CREATE TABLE pools (
  name         text PRIMARY KEY,
  region       text NOT NULL,
  runtime_kind text NOT NULL,
  min_ready    integer NOT NULL CHECK (min_ready >= 0),
  max_total    integer NOT NULL CHECK (max_total >= 0),
  max_starting integer CHECK (max_starting IS NULL OR max_starting > 0),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (region, runtime_kind)
);

CREATE TABLE sessions (
  id                 text PRIMARY KEY,
  workspace_id       text NOT NULL REFERENCES workspaces(id),
  pool               text NOT NULL REFERENCES pools(name),
  status             text NOT NULL CHECK (status IN ('QUEUED','PROVISIONING','RUNNING','COMPLETED','EXPIRED','ERRORED')),
  region             text NOT NULL,
  runtime_kind       text NOT NULL,
  timeout_seconds    integer NOT NULL,
  keep_alive_seconds integer NOT NULL,
  -- viewport, user_agent, proxy, profile_id, storage_state, recording: never returned whole (secrets).
  config             jsonb NOT NULL DEFAULT '{}'::jsonb,
  labels             jsonb NOT NULL DEFAULT '{}'::jsonb,
  pod_id             text,
  created_by         text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  started_at         timestamptz,
  expires_at         timestamptz NOT NULL,
  released_at        timestamptz,
  release_reason     text,
  error              text
);
CREATE INDEX sessions_workspace_id ON sessions (workspace_id, id);
CREATE INDEX sessions_live ON sessions (pool, status) WHERE status IN ('QUEUED','PROVISIONING','RUNNING');

-- Append-only history of every status change.
CREATE TABLE session_transitions (
  id          bigserial PRIMARY KEY,
  session_id  text NOT NULL REFERENCES sessions(id),
  from_status text,
  to_status   text NOT NULL,
  reason      text,
  actor       text,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_transitions_session ON session_transitions (session_id, id);

CREATE TABLE idempotency_keys (
  workspace_id text NOT NULL REFERENCES workspaces(id),
  key          text NOT NULL,
  -- Deferred: the key is claimed first (it serialises concurrent duplicates), the session inserted next.
  session_id   text NOT NULL REFERENCES sessions(id) DEFERRABLE INITIALLY DEFERRED,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, key)
);

-- Who did what; `detail` is an allowlisted object, never payloads or URLs.
CREATE TABLE audit_log (
  id           text PRIMARY KEY,
  workspace_id text REFERENCES workspaces(id),
  class        text NOT NULL CHECK (class IN ('tenant','admin','system')),
  actor        text NOT NULL,
  action       text NOT NULL,
  target_type  text NOT NULL,
  target_id    text NOT NULL,
  detail       jsonb NOT NULL DEFAULT '{}'::jsonb,
  at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_workspace ON audit_log (workspace_id, id);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);

CREATE FUNCTION reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;

CREATE TRIGGER session_transitions_append_only BEFORE UPDATE OR DELETE ON session_transitions
  FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION reject_change();

-- Installation-wide settings generated on first start (e.g. the CDP token signing secret).
CREATE TABLE settings (
  key   text PRIMARY KEY,
  value text NOT NULL
);
