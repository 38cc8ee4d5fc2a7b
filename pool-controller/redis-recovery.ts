/**
 * After Redis lost its data (a flush, a restart without persistence), rebuild what only Postgres and
 * the driver still know, for one pool: held pods' records and routes (so clients can still connect)
 * and the jobs that drive live sessions (provision for QUEUED/PROVISIONING, expire for RUNNING).
 * Slots and limits are restored every pass anyway (restorePoolSlots). Warm pods are not re-adopted:
 * an idle-looking pod may be mid-claim by a worker whose claim record was lost, so the reaper deletes
 * them after its grace period and the pool refills.
 */
import type { Session } from '../core/db/sessions.repository.ts';
import { jobIds } from '../core/queue/jobs.ts';
import type { RuntimeDriver } from '../core/runtime/driver.ts';
import type { Services } from '../core/services.ts';
import type { Logger } from '../core/logging/logger.ts';
import { routeOf } from '../core/redis/session-routes.ts';

/** What is rebuilt: the live sessions' jobs, and the held pods' records and routes. */
export type RedisRecoveryDeps = Pick<Services, 'jobs' | 'podRecords' | 'sessionRoutes'>;

export async function recoverLostRedisState(
  services: RedisRecoveryDeps,
  driver: RuntimeDriver,
  live: Session[],
  log: Logger,
): Promise<void> {
  let routes = 0;
  let jobs = 0;
  for (const session of live) {
    if (session.status !== 'RUNNING') {
      await services.jobs.enqueue(
        'provision',
        { sessionId: session.id },
        { jobId: jobIds.provision(session.id) },
      );
      jobs++;
      continue;
    }
    const due = session.expiresAt.getTime();
    await services.jobs.enqueue(
      'expire',
      { sessionId: session.id },
      { jobId: jobIds.expire(session.id, due), delay: Math.max(0, due - Date.now()) },
    );
    jobs++;
    if (!session.podId || (await services.sessionRoutes.get(session.id))) continue;
    const pod = await driver.getPod(session.podId);
    if (!pod?.alive) continue; // the pod healer ends the session
    await services.podRecords.recordPod(pod);
    await services.podRecords.setSessionPod(session.id, pod.id);
    await services.sessionRoutes.publish(routeOf(session, pod));
    routes++;
  }
  if (live.length > 0) log.warn({ routes, jobs }, 'rebuilt state Redis had lost');
}
