/**
 * profile-purge: deletes the data of profiles deleted longer ago than VENTUS_PROFILE_PURGE_GRACE_MS
 * (core/profiles/profile-purge.ts); runs every VENTUS_PROFILE_PURGE_EVERY_MS on the maintenance queue.
 */
import { purgeDeletedProfiles } from '../core/profiles/profile-purge.ts';
import type { Services } from '../core/services.ts';
import type { JobContext } from './processor.ts';

export type ProfilePurgeDeps = Pick<Services, 'config' | 'db'>;

export function profilePurgeProcessor(services: ProfilePurgeDeps) {
  return async ({ log }: JobContext<'profile-purge'>): Promise<void> => {
    const purged = await purgeDeletedProfiles({
      db: services.db,
      graceMs: services.config.profilePurgeGraceMs,
    });
    if (purged.length > 0) log.info({ profiles: purged.length }, 'deleted profiles purged');
  };
}
