/**
 * The pool's live sessions kept honest against their pods and Postgres: a lost provision enqueue is
 * enqueued again, a session stuck PROVISIONING or whose pod died (or stopped answering) ends ERRORED,
 * and slots Redis still holds for sessions that have ended are freed.
 */
import { getSession, type Session } from '../core/db/sessions.repository.ts';
import type { PoolSettings } from '../core/db/pools.repository.ts';
import { endSession, afterEnd, type EndSessionDeps } from '../core/lifecycle/end-session.ts';
import { isTerminal } from '../core/domain/session-states.ts';
import { jobIds } from '../core/queue/jobs.ts';
import type { PodStatus, RuntimeDriver } from '../core/runtime/driver.ts';
import type { Services } from '../core/services.ts';
import type { Logger } from '../core/logging/logger.ts';
import { HeldPodProbes } from './held-pod-probes.ts';

/** An admitted slot younger than this may not have its Postgres row yet; leave it alone. */
const ADMISSION_GRACE_MS = 30_000;
/** Failed probes in a row before a held pod's session is ended. */
const UNHEALTHY_AFTER = 3;
/** QUEUED this long without being picked up: the provision enqueue was probably lost. */
const STUCK_QUEUED_MS = 10_000;
/** Longer than every provision attempt with its backoff: a session still PROVISIONING is stuck. */
const PROVISION_DEADLINE_MS = 5 * 60_000;

/** Ending sessions, re-enqueueing their provision jobs, their claim records and slots in Redis. */
export type SessionJanitorDeps = EndSessionDeps & Pick<Services, 'podRecords' | 'poolSlots'>;

export class SessionJanitor {
  private readonly probes: HeldPodProbes;

  constructor(
    private readonly services: SessionJanitorDeps,
    private readonly driver: RuntimeDriver,
    private readonly log: Logger,
  ) {
    this.probes = new HeldPodProbes(driver);
  }

  /** Session id -> the pod it holds (Postgres once RUNNING, the claim record before). */
  async heldPods(live: Session[]): Promise<Map<string, string>> {
    const held = new Map<string, string>();
    for (const session of live) {
      const podId = session.podId ?? (await this.services.podRecords.sessionPod(session.id));
      if (podId) held.set(session.id, podId);
    }
    return held;
  }

  /**
   * QUEUED too long: the provision enqueue was lost, enqueue it again (idempotent by job id).
   * PROVISIONING past every retry: the job is gone for good (e.g. it stalled on dying workers more
   * often than BullMQ retries); the session ends ERRORED rather than waiting forever.
   */
  async requeueStuck(live: Session[]): Promise<void> {
    for (const session of live) {
      const age = Date.now() - session.createdAt.getTime();
      if (session.status === 'QUEUED' && age > STUCK_QUEUED_MS) {
        await this.services.jobs.enqueue(
          'provision',
          { sessionId: session.id },
          { jobId: jobIds.provision(session.id) },
        );
      } else if (session.status === 'PROVISIONING' && age > PROVISION_DEADLINE_MS) {
        this.log.error({ sessionId: session.id }, 'provisioning never finished; session errored');
        await this.endErrored(session.id, 'provision_failed', 'The browser runtime failed to start');
      }
    }
  }

  /**
   * A RUNNING session whose pod is gone, or whose browser stopped answering probes, ends ERRORED
   * (runtime_failure); its clients are disconnected.
   */
  async healHeldPods(
    pool: string,
    live: Session[],
    held: Map<string, string>,
    byId: Map<string, PodStatus>,
  ): Promise<void> {
    await this.probes.probe(pool, live, held, byId);
    for (const session of live) {
      const podId = held.get(session.id);
      if (session.status !== 'RUNNING' || !podId) continue;
      if (this.probes.failures(pool, podId) >= UNHEALTHY_AFTER) {
        this.log.warn({ sessionId: session.id, podId }, 'held pod stopped answering; session errored');
        this.probes.forget(pool, podId);
        await this.endErrored(session.id, 'runtime_failure', 'The browser runtime stopped responding');
        continue;
      }
      if (byId.get(podId)?.alive) continue;
      // The pod list is a snapshot from the start of the pass: a pod cold-started since is not in it.
      if ((await this.driver.getPod(podId))?.alive) continue;
      this.log.warn({ sessionId: session.id, podId }, 'held pod died; session errored');
      await this.endErrored(session.id, 'runtime_failure', 'The browser runtime stopped unexpectedly');
    }
  }

  /** Slots held in Redis by sessions Postgres says have ended (or never committed) are freed. */
  async syncSlots(pool: PoolSettings, live: Set<string>): Promise<void> {
    const { poolSlots, db } = this.services;
    for (const id of await poolSlots.activeAdmittedBefore(pool.name, Date.now() - ADMISSION_GRACE_MS)) {
      if (live.has(id)) continue;
      const session = await getSession(db, id);
      if (session && isTerminal(session.status)) await afterEnd(this.services, id);
      else await poolSlots.undoAdmission(pool.name, id);
    }
  }

  private async endErrored(
    sessionId: string,
    reason: 'provision_failed' | 'runtime_failure',
    error: string,
  ): Promise<void> {
    await endSession(this.services, {
      sessionId,
      reason,
      actor: 'pool-controller',
      auditClass: 'system',
      error,
    });
  }
}
