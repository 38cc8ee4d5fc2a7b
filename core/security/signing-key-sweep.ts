/**
 * The signing-key sweep: deletes retired signing keys that nothing can still present. A retired key
 * keeps verifying until every session created while it could sign has ended, and every expiring
 * token it signed (live view, recording URL) has expired. Run by the workers every
 * {@link SIGNING_KEY_SWEEP_MS} on the maintenance queue.
 */
import type { Database } from '../db/database.ts';
import { deleteSpentSigningKeys } from '../db/signing-keys.repository.ts';
import { LIVE_VIEW_TOKEN_SECONDS } from './cdp-token.ts';
import { KEY_PROPAGATION_MS, type SigningKeyring } from './signing-keyring.ts';

export const SIGNING_KEY_SWEEP_MS = 300_000;

export interface SigningKeySweepDeps {
  db: Database;
  /** This process's keys: reloaded at once after a deletion (other processes within their refresh). */
  keys: SigningKeyring;
  /** The recording URL lifetime (VENTUS_RECORDING_URL_TTL_SECONDS): the longest an expiring token lives. */
  recordingUrlTtlSeconds: number;
}

/** Deletes the spent keys; returns their kids. `now` is the clock (a test moves it). */
export async function sweepSigningKeys(deps: SigningKeySweepDeps, now = new Date()): Promise<string[]> {
  const deleted = await deleteSpentSigningKeys(
    deps.db,
    {
      now,
      propagationSeconds: KEY_PROPAGATION_MS / 1000,
      tokenLifetimeSeconds: Math.max(LIVE_VIEW_TOKEN_SECONDS, deps.recordingUrlTtlSeconds),
    },
    { id: 'workers', class: 'system' },
  );
  if (deleted.length > 0) await deps.keys.reload();
  return deleted;
}
