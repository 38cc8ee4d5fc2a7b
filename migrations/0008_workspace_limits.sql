-- Per-workspace limits (issue 16). An operator sets them (API, `ventus workspaces set`, dashboard);
-- NULL means the installation default (core/domain/workspace-limits.ts). Enforced by the broker
-- (live sessions in the atomic Redis admission step, lifetime in :keepalive, profiles, versions and
-- bytes in the profile writes) and the proxy (CDP sockets and live-view viewers per session).
ALTER TABLE workspaces
  ADD COLUMN limit_live_sessions            integer CHECK (limit_live_sessions BETWEEN 0 AND 100000),
  ADD COLUMN limit_session_lifetime_seconds integer CHECK (limit_session_lifetime_seconds BETWEEN 60 AND 31536000),
  ADD COLUMN limit_profiles                 integer CHECK (limit_profiles BETWEEN 0 AND 1000000),
  ADD COLUMN limit_versions_per_profile     integer CHECK (limit_versions_per_profile BETWEEN 1 AND 10000),
  ADD COLUMN limit_stored_bytes             bigint  CHECK (limit_stored_bytes BETWEEN 0 AND 1099511627776),
  ADD COLUMN limit_cdp_sockets_per_session  integer CHECK (limit_cdp_sockets_per_session BETWEEN 1 AND 1000),
  ADD COLUMN limit_viewers_per_session      integer CHECK (limit_viewers_per_session BETWEEN 1 AND 1000);

-- Secrets at rest: inline storage_state and the proxy password are now sealed in sessions.config
-- ("sealed": AES-256-GCM under the profile keys, bound to the session id) while the session waits
-- for its pod, and dropped from the row once the pod has them (RUNNING) or the session ends. Rows
-- written before this migration held them in plaintext: a RUNNING or ended session needs them no
-- more, so they go now; a QUEUED or PROVISIONING one is sealed by the first process that starts.
UPDATE sessions SET config = (config - 'storage_state') #- '{proxy,password}'
 WHERE status NOT IN ('QUEUED','PROVISIONING')
   AND (config ? 'storage_state' OR config->'proxy' ? 'password');

-- A deleted profile's versions are purged (rows deleted) after a grace period by the profile purge job.
CREATE INDEX profiles_deleted ON profiles (deleted_at) WHERE deleted_at IS NOT NULL;
