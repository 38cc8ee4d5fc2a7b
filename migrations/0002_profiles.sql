-- Profiles: a named, versioned storage_state per workspace. Versions are immutable; a new one is
-- appended under a row lock on the profile (optimistic concurrency through If-Match in the API).

CREATE TABLE profiles (
  id             text PRIMARY KEY,
  workspace_id   text NOT NULL REFERENCES workspaces(id),
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
  latest_version integer NOT NULL CHECK (latest_version >= 1),
  created_by     text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  -- Soft delete: the API answers 404, but sessions that pinned a version can still load it.
  deleted_at     timestamptz
);
-- Names are unique among a workspace's live profiles, so a deleted profile's name can be reused.
CREATE UNIQUE INDEX profiles_workspace_name ON profiles (workspace_id, name) WHERE deleted_at IS NULL;
CREATE INDEX profiles_workspace_id ON profiles (workspace_id, id) WHERE deleted_at IS NULL;

CREATE TABLE profile_versions (
  profile_id    text NOT NULL REFERENCES profiles(id),
  version       integer NOT NULL CHECK (version >= 1),
  -- Plain jsonb for now: cookies and localStorage are secrets. Encryption at rest (envelope, per
  -- workspace key) comes in a later issue; until then only GET …/versions/{n} ever returns it.
  storage_state jsonb NOT NULL,
  created_by    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  -- The backstop for concurrent appends: two writers can never both create version n.
  PRIMARY KEY (profile_id, version)
);

-- A version, once written, never changes (sessions pin it); deleting stays possible for a later purge.
CREATE TRIGGER profile_versions_immutable BEFORE UPDATE ON profile_versions
  FOR EACH ROW EXECUTE FUNCTION reject_change();
