-- JWT signing keys (connect_url, live_view_url and recording_url tokens), shared by every process.
-- The newest key that is not retired signs; every key not deleted verifies the tokens naming its kid.
-- `ventus signing-keys rotate` adds a key and retires the one that signed; the signing-key sweep
-- deletes a retired key (its secret set to NULL, the row kept so a kid is never reused and a deleted
-- VENTUS_JWT_SECRET is never registered again) once nothing it signed can still be in use.
CREATE TABLE signing_keys (
  kid        text PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9_-]{1,64}$'),
  -- 'environment': VENTUS_JWT_SECRET, whose value stays in the environment (secret is always NULL
  -- here; the kid is a fingerprint of it). 'generated': made by ventus, the secret kept in this row.
  source     text NOT NULL CHECK (source IN ('generated','environment')),
  secret     text,
  -- Accepts tokens without a kid: those minted before keys had ids (the former cdp_jwt_secret setting
  -- or VENTUS_JWT_SECRET). Keys made since always put their kid in the token header.
  legacy     boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- No longer signs; still verifies until deleted.
  retired_at timestamptz,
  deleted_at timestamptz,
  CHECK (source = 'generated' OR secret IS NULL),
  CHECK (source = 'environment' OR deleted_at IS NOT NULL OR secret IS NOT NULL),
  CHECK (deleted_at IS NULL OR (retired_at IS NOT NULL AND secret IS NULL))
);
-- One signing key at a time: a rotation retires the old key in the transaction that adds the new one.
CREATE UNIQUE INDEX signing_keys_one_signing ON signing_keys ((true)) WHERE retired_at IS NULL;

-- The secret every token was signed with until now becomes the first key. It keeps verifying
-- kid-less tokens (connect_urls already handed out) until a rotation retires it and the sweep deletes
-- it; it is removed from settings so no second copy outlives that deletion.
INSERT INTO signing_keys (kid, source, secret, legacy)
  SELECT 'legacy', 'generated', value, true FROM settings WHERE key = 'cdp_jwt_secret';
DELETE FROM settings WHERE key = 'cdp_jwt_secret';
