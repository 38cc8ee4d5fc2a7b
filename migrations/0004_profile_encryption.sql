-- Storage state restored into a session's browser: counts only ({cookies, origins: [{origin,
-- local_storage_items}]}), never values. NULL when nothing was restored.
ALTER TABLE sessions ADD COLUMN restored_state jsonb;

-- profile_versions.storage_state is now sealed (AES-256-GCM, {alg, kid, iv, tag, ciphertext}) by the
-- application, which holds the keys. Versions stay immutable with one exception: sealing a version
-- written in plaintext before this migration (every process does it once at start).
CREATE FUNCTION profile_versions_seal_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.profile_id = OLD.profile_id AND NEW.version = OLD.version
     AND NEW.created_by IS NOT DISTINCT FROM OLD.created_by AND NEW.created_at = OLD.created_at
     AND NOT (OLD.storage_state ? 'ciphertext') AND (NEW.storage_state ? 'ciphertext') THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;

DROP TRIGGER profile_versions_immutable ON profile_versions;
CREATE TRIGGER profile_versions_immutable BEFORE UPDATE ON profile_versions
  FOR EACH ROW EXECUTE FUNCTION profile_versions_seal_only();
