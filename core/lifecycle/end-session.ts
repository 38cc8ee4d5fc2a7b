/**
 * Every way a session ends goes through here: release, CDP disconnect, expiry, admin stop, pod death.
 * Postgres decides (compare-and-set plus transition plus audit, in one statement); then the route
 * goes, every proxy is told to close its sockets, and a teardown job deletes the pod and frees the slot.
 */
import type { Database } from '../db/database.ts';
import type { Session } from '../db/sessions.repository.ts';
import { transitionSession } from '../db/session-transitions.repository.ts';
import type { AuditClass } from '../db/audit.repository.ts';
import { END_STATUS, sourcesOf, type ReleaseReason } from '../domain/session-states.ts';
import type { SessionRoutes } from '../redis/session-routes.ts';
import type { JobProducer } from '../queue/producer.ts';
import { jobIds } from '../queue/jobs.ts';

export interface EndSessionDeps {
  db: Database;
  sessionRoutes: SessionRoutes;
  jobs: JobProducer;
}

export interface EndRequest {
  sessionId: string;
  reason: ReleaseReason;
  /** Who ended it: an API key id, or a system component ("proxy", "workers", "pool-controller"). */
  actor: string;
  auditClass: AuditClass;
  /** A tenant's request: only a session of this workspace ends. */
  workspaceId?: string;
  /** Allowlisted audit detail (e.g. an admin's X-Reason). */
  detail?: Record<string, string>;
  error?: string;
}

/** Ends the session; returns it, or undefined when it had ended already (nothing is done twice). */
export async function endSession(deps: EndSessionDeps, req: EndRequest): Promise<Session | undefined> {
  const to = END_STATUS[req.reason];
  const ended = await transitionSession(deps.db, {
    id: req.sessionId,
    from: sourcesOf(to),
    to,
    releaseReason: req.reason,
    actor: req.actor,
    ...(req.workspaceId !== undefined && { workspaceId: req.workspaceId }),
    ...(req.error !== undefined && { error: req.error }),
    audit: { class: req.auditClass, ...(req.detail && { detail: req.detail }) },
  });
  if (ended) await afterEnd(deps, ended.id);
  return ended;
}

/** The Redis and queue half of an ending. Safe to repeat; the reconciler repeats it after a crash. */
export async function afterEnd(
  deps: Pick<EndSessionDeps, 'sessionRoutes' | 'jobs'>,
  sessionId: string,
): Promise<void> {
  // Independent writes (the teardown finds the session ended in Postgres, whatever Redis holds): at once.
  await Promise.all([
    deps.sessionRoutes.end(sessionId),
    deps.jobs.enqueue('teardown', { sessionId }, { jobId: jobIds.teardown(sessionId) }),
  ]);
}
