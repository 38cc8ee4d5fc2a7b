/**
 * provision: QUEUED -> PROVISIONING -> claim a warm pod (or cold-start one within the reserved slot)
 * -> apply the session's settings -> publish the route -> RUNNING -> schedule expiry.
 * A retried job finds the pod it claimed before; a session that ended meanwhile gets its pod torn down.
 */
import { getSession, setRestoredState, type Session } from '../db/sessions.repository.ts';
import { transitionSession } from '../db/session-transitions.repository.ts';
import { isTerminal } from '../domain/session-states.ts';
import { endSession, type EndSessionDeps } from './end-session.ts';
import { jobIds } from '../queue/jobs.ts';
import {
  SessionConfigRejectedError,
  type Pod,
  type RestoredCounts,
  type RuntimeDriver,
} from '../runtime/driver.ts';
import type { ClaimKind } from '../metrics/metrics.ts';
import type { Services } from '../services.ts';
import type { PodFleet } from '../pools/pod-fleet.ts';
import type { Logger } from '../logging/logger.ts';
import { PermanentJobError } from '../queue/permanent-job-error.ts';
import { sessionStorageState, toRestoredState, type StorageStateDeps } from './session-storage-state.ts';
import { openSessionSecrets } from '../security/session-secrets.ts';
import { routeOf } from '../redis/session-routes.ts';

/**
 * Postgres and the queue (the session's transitions, its expiry, its end on failure), its route and
 * the RUNNING announcement, the pool-changed signal, the cipher for its sealed settings, the metrics.
 */
export type ProvisionServices = EndSessionDeps & StorageStateDeps & Pick<Services, 'metrics' | 'poolSignals'>;

export interface ProvisionDeps {
  services: ProvisionServices;
  driver: RuntimeDriver;
  /** Claims a warm pod or starts one cold, and retires a pod nobody will use. */
  fleet: PodFleet;
}

const ACTOR = 'workers';

/**
 * The RUNNING transition found the session no longer PROVISIONING: either it ended meanwhile (tear
 * its pod down) or a duplicate provision job (re-enqueued after a Redis loss) won with another pod
 * (delete only ours; the winner's route stays).
 */
async function lostTheRace(deps: ProvisionDeps, sessionId: string, pod: Pod, log: Logger): Promise<void> {
  const now = await getSession(deps.services.db, sessionId);
  if (now && !isTerminal(now.status)) {
    if (now.podId !== pod.id) {
      log.warn(
        { podId: pod.id, winner: now.podId },
        'another provision of this session won; deleting our pod',
      );
      await deps.fleet.retire(pod.id);
    }
    return;
  }
  log.info('session ended while provisioning; tearing its pod down');
  await deps.services.sessionRoutes.delete(sessionId);
  await deps.services.jobs.enqueue('teardown', { sessionId }, { jobId: jobIds.teardown(sessionId) });
}

/**
 * After the claim: the route, RUNNING (with its expiry scheduled), and the announcement to clients
 * waiting for it; a session that ended meanwhile gets its pod torn down.
 */
async function handOver(
  deps: ProvisionDeps,
  session: Session,
  pod: Pod,
  kind: ClaimKind,
  restored: RestoredCounts | undefined,
  log: Logger,
): Promise<void> {
  // Informational (operators see which session a Pod serves); never on the session's critical path.
  deps.driver
    .annotateSession?.(pod.id, session.id)
    .catch((err: unknown) => log.warn({ err, podId: pod.id }, 'could not annotate the pod'));
  if (restored) await setRestoredState(deps.services.db, session.id, toRestoredState(restored));
  await deps.services.sessionRoutes.publish(routeOf(session, pod));
  // expires_at was fixed by the PROVISIONING transition, so the expiry is scheduled alongside the
  // RUNNING write (a session that lost the race leaves a job that finds it not RUNNING: a no-op).
  const due = session.expiresAt.getTime();
  const [running] = await Promise.all([
    transitionSession(deps.services.db, {
      id: session.id,
      from: ['PROVISIONING'],
      to: 'RUNNING',
      actor: ACTOR,
      podId: pod.id,
    }),
    deps.services.jobs.enqueue(
      'expire',
      { sessionId: session.id },
      { jobId: jobIds.expire(session.id, due), delay: Math.max(0, due - Date.now()) },
    ),
  ]);
  if (!running) {
    await lostTheRace(deps, session.id, pod, log);
    return;
  }
  const sinceCreated = Math.max(0, Date.now() - running.createdAt.getTime()) / 1000;
  deps.services.metrics.timeToRunningSeconds.observe({ pool: session.pool, kind }, sinceCreated);
  // Clients waiting on GET /v1/sessions/{id}?wait_seconds= hear it now (best effort: they re-read anyway).
  await deps.services.sessionRoutes
    .announceRunning(session.id)
    .catch((err: unknown) => log.warn({ err }, 'could not announce RUNNING'));
  log.info({ podId: pod.id }, 'session running');
}

/** The upstream proxy as the pod needs it: the stored url and username, the password unsealed. */
function withProxyPassword(
  services: Pick<ProvisionServices, 'profileCipher'>,
  session: Session,
): NonNullable<Session['config']['proxy']> {
  const { proxyPassword } = openSessionSecrets(services.profileCipher, session);
  return { ...session.config.proxy!, ...(proxyPassword !== undefined && { password: proxyPassword }) };
}

/** A provision job's work, for one attempt (`lastAttempt`: BullMQ makes no more after it). */
export interface ProvisionAttempt {
  sessionId: string;
  log: Logger;
  lastAttempt: boolean;
}

export function provisionSession(deps: ProvisionDeps) {
  const { services, driver } = deps;
  const { metrics } = services;
  return async ({ sessionId, log, lastAttempt }: ProvisionAttempt): Promise<void> => {
    // The common case first: QUEUED -> PROVISIONING in one compare-and-set (no read before it).
    const session =
      (await transitionSession(services.db, {
        id: sessionId,
        from: ['QUEUED'],
        to: 'PROVISIONING',
        actor: ACTOR,
        startClock: true,
      })) ?? (await getSession(services.db, sessionId));
    // Ended (released while queued), or RUNNING already (a duplicate delivery after success).
    if (!session || session.status !== 'PROVISIONING') return;
    try {
      const storageState = await sessionStorageState(services, session);
      const podConfig = {
        ...(session.config.viewport && { viewport: session.config.viewport }),
        ...(session.config.user_agent && { userAgent: session.config.user_agent }),
        ...(session.config.proxy && { proxy: withProxyPassword(services, session) }),
        ...(session.config.recording?.enabled && { recording: { enabled: true } }),
        ...(storageState && { storageState }),
      };
      const claimStarted = performance.now();
      // Always, even with nothing to apply: POST /session is the claim, at which the agent cuts every
      // connection opened while the pod was warm (runtime-image/agent/protocol.ts). It is also the
      // warm pod's health check (a dead one is dropped and the next claimed).
      const {
        pod,
        kind,
        claimed: restored,
      } = await deps.fleet.claimOrStart(session, log, (p) => driver.configureSession(p, podConfig));
      metrics.claimSeconds.observe({ pool: session.pool, kind }, (performance.now() - claimStarted) / 1000);
      try {
        await handOver(deps, session, pod, kind, restored, log);
      } finally {
        // Tells the controller to refill at once (it also polls), once the session is RUNNING: the
        // replacement pod's start would otherwise compete with the hand-over for the CPU.
        services.poolSignals
          .changed(session.pool)
          .catch((err: unknown) => log.warn({ err }, 'could not signal the pool change'));
      }
    } catch (err) {
      // The pod refused the settings for good (e.g. the upstream proxy refused the credentials):
      // retrying cannot help, so the session ends now, with the pod's reason for its owner to read.
      if (err instanceof SessionConfigRejectedError) {
        await endSession(services, {
          sessionId: session.id,
          reason: 'provision_failed',
          actor: ACTOR,
          auditClass: 'system',
          error: err.message,
        });
        throw new PermanentJobError(err.message);
      }
      if (lastAttempt) {
        await endSession(services, {
          sessionId: session.id,
          reason: 'provision_failed',
          actor: ACTOR,
          auditClass: 'system',
          error: 'The browser runtime failed to start',
        });
      }
      throw err;
    }
  };
}
