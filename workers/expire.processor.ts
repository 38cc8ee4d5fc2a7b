/**
 * expire: wakes at expires_at. Postgres decides: if a keep-alive moved expires_at, re-schedule for the
 * new time; if the session is still RUNNING and due, end it as EXPIRED; still PROVISIONING, look again
 * in a second. Jobs fire at least once.
 */
import { getSession } from '../core/db/sessions.repository.ts';
import { endSession } from '../core/lifecycle/end-session.ts';
import { jobIds } from '../core/queue/jobs.ts';
import type { Services } from '../core/services.ts';
import type { JobContext } from './processor.ts';

export function expireProcessor(services: Services, now: () => number = Date.now) {
  return async ({ payload, log }: JobContext<'expire'>): Promise<void> => {
    const session = await getSession(services.db, payload.sessionId);
    if (session?.status === 'PROVISIONING') {
      // Scheduled alongside the RUNNING write, which has not landed yet: look again in a second.
      const again = now() + 1000;
      await services.jobs.enqueue(
        'expire',
        { sessionId: session.id },
        { jobId: jobIds.expire(session.id, again), delay: 1000 },
      );
      return;
    }
    if (!session || session.status !== 'RUNNING') return;
    const due = session.expiresAt.getTime();
    if (due > now()) {
      await services.jobs.enqueue(
        'expire',
        { sessionId: session.id },
        { jobId: jobIds.expire(session.id, due), delay: due - now() },
      );
      log.debug({ due }, 'expiry moved; re-scheduled');
      return;
    }
    const ended = await endSession(services, {
      sessionId: session.id,
      reason: 'timeout',
      actor: 'workers',
      auditClass: 'system',
    });
    if (ended) log.info('session expired');
  };
}
