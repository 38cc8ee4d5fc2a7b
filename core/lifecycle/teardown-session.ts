/**
 * teardown: after a session ends, save its recording (if any), delete its pod (never reused) and free
 * its slot in the pool.
 */
import { getSession } from '../db/sessions.repository.ts';
import { isTerminal } from '../domain/session-states.ts';
import type { RuntimeDriver } from '../runtime/driver.ts';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import { createArtifactStore } from '../artifacts/local-artifact.store.ts';
import type { Services } from '../services.ts';
import type { PodFleet } from '../pools/pod-fleet.ts';
import type { Logger } from '../logging/logger.ts';
import { PermanentJobError } from '../queue/permanent-job-error.ts';
import { collectRecording, type CollectDeps } from './collect-recording.ts';

/**
 * The session's row, its claim record and route, its slot, the pool-changed signal; what saving its
 * recording needs; the config for the default artifact store.
 */
export type TeardownDeps = CollectDeps['services'] &
  Pick<Services, 'config' | 'db' | 'podRecords' | 'poolSignals' | 'poolSlots' | 'sessionRoutes'>;

export function teardownSession(
  services: TeardownDeps,
  driver: RuntimeDriver,
  fleet: PodFleet,
  store: ArtifactStore = createArtifactStore(services.config),
) {
  return async ({ sessionId, log }: { sessionId: string; log: Logger }): Promise<void> => {
    const session = await getSession(services.db, sessionId);
    if (!session) throw new PermanentJobError('unknown session');
    if (!isTerminal(session.status)) throw new PermanentJobError(`session is ${session.status}, not ended`);
    const podId = session.podId ?? (await services.podRecords.sessionPod(session.id));
    // Before the pod goes: its recording is encoded on it and copied out (best effort).
    await collectRecording({ services, driver, store }, session, podId, log);
    if (podId) await fleet.retire(podId);
    await services.sessionRoutes.delete(session.id);
    await services.podRecords.clearSessionPod(session.id);
    await services.poolSlots.release(session.pool, session.id);
    await services.poolSignals.changed(session.pool);
    log.info({ podId }, 'pod torn down; slot freed');
  };
}
