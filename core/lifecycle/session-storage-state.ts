/** The storage_state a session starts with: inline (wins, per the spec) or its pinned profile version. */
import { getPinnedStorageState } from '../db/profiles.repository.ts';
import type { Session } from '../db/sessions.repository.ts';
import type { RestoredState } from '../domain/session.schema.ts';
import type { PodStorageState, RestoredCounts } from '../runtime/driver.ts';
import type { Services } from '../services.ts';
import { openSessionSecrets } from '../security/session-secrets.ts';

/** Postgres for the pinned profile version, the cipher to open it (and the session's sealed secrets). */
export type StorageStateDeps = Pick<Services, 'db' | 'profileCipher'>;

export async function sessionStorageState(
  services: StorageStateDeps,
  session: Session,
): Promise<PodStorageState | undefined> {
  const inline = openSessionSecrets(services.profileCipher, session).storageState;
  if (inline) return inline;
  const { profile_id: profileId, profile_version: version } = session.config;
  if (profileId === undefined || version === undefined) return undefined;
  const state = await getPinnedStorageState(
    services.db,
    services.profileCipher,
    session.workspaceId,
    profileId,
    version,
  );
  // The version was checked at create and versions are never deleted: this is lost data, not a race.
  if (!state) throw new Error(`profile ${profileId} version ${version} not found`);
  return state;
}

/** The pod's counts in the API's shape. */
export function toRestoredState(counts: RestoredCounts): RestoredState {
  return {
    cookies: counts.cookies,
    origins: counts.origins.map((o) => ({ origin: o.origin, local_storage_items: o.localStorageItems })),
  };
}
