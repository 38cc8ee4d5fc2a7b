/**
 * Expiry, when a session's expire job wakes at its `expires_at`. Postgres decides: a keep-alive that
 * moved `expires_at` re-schedules the job for the new time; a RUNNING session that is due ends
 * EXPIRED (release_reason `timeout`); one still PROVISIONING is looked at again in a second (the job
 * is scheduled alongside the RUNNING write, which may not have landed). Jobs fire at least once, so
 * every branch is safe to repeat.
 */
import { getSession } from '../db/sessions.repository.ts';
import { jobIds } from '../queue/jobs.ts';
import { endSession, type EndSessionDeps } from './end-session.ts';

export type ExpiryOutcome = 'expired' | 'rescheduled' | 'not-live';

const PROVISIONING_RECHECK_MS = 1000;

export async function expireIfDue(
  deps: EndSessionDeps,
  sessionId: string,
  now: () => number = Date.now,
): Promise<ExpiryOutcome> {
  const session = await getSession(deps.db, sessionId);
  if (session?.status === 'PROVISIONING') {
    const again = now() + PROVISIONING_RECHECK_MS;
    await deps.jobs.enqueue(
      'expire',
      { sessionId },
      { jobId: jobIds.expire(sessionId, again), delay: PROVISIONING_RECHECK_MS },
    );
    return 'rescheduled';
  }
  if (!session || session.status !== 'RUNNING') return 'not-live';
  const due = session.expiresAt.getTime();
  if (due > now()) {
    await deps.jobs.enqueue(
      'expire',
      { sessionId },
      { jobId: jobIds.expire(sessionId, due), delay: due - now() },
    );
    return 'rescheduled';
  }
  const ended = await endSession(deps, {
    sessionId,
    reason: 'timeout',
    actor: 'workers',
    auditClass: 'system',
  });
  return ended ? 'expired' : 'not-live';
}
