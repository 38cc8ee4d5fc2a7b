/**
 * One reconcile pass over one pool: keep `warm + starting >= min(min_ready, max_total - active)`,
 * never more pods than `max_total`, drop dead warm pods, end sessions whose pod died, delete pods
 * nobody references, and bring capacity counters back to what Postgres says.
 */
import { liveSessionIds, getSession, type Session } from '../core/db/sessions.repository.ts';
import type { PoolSettings } from '../core/db/pools.repository.ts';
import { endSession, afterEnd } from '../core/lifecycle/end-session.ts';
import { newId } from '../core/domain/ids.ts';
import { isTerminal } from '../core/domain/session-states.ts';
import { jobIds } from '../core/queue/jobs.ts';
import type { PodStatus, RuntimeDriver } from '../core/runtime/driver.ts';
import type { Services } from '../core/services.ts';
import type { Logger } from '../core/logging/logger.ts';

/** An admitted slot younger than this may not have its Postgres row yet; leave it alone. */
const ADMISSION_GRACE_MS = 30_000;
/** A pod younger than this may be mid-claim or mid-creation by a worker; the reaper leaves it alone. */
const ORPHAN_GRACE_MS = 30_000;
/** Failed probes in a row before a warm pod whose process still runs is replaced. */
const UNHEALTHY_AFTER = 3;
/** QUEUED this long without being picked up: the provision enqueue was probably lost. */
const STUCK_QUEUED_MS = 10_000;

export interface ReconcilerOptions {
  driver: RuntimeDriver;
  headless: boolean;
  log: Logger;
}

export class PoolReconciler {
  /** Pods being created by this controller, per pool. */
  private readonly starting = new Map<string, Set<string>>();
  private readonly creations = new Set<Promise<void>>();
  /** Consecutive failed health probes per warm pod. */
  private readonly failedChecks = new Map<string, number>();

  constructor(
    private readonly services: Services,
    private readonly options: ReconcilerOptions,
  ) {}

  startingCount(pool: string): number {
    return this.starting.get(pool)?.size ?? 0;
  }

  async reconcile(pool: PoolSettings): Promise<void> {
    const { pools } = this.services;
    await pools.publishLimits(pool.name, { maxTotal: pool.maxTotal, minReady: pool.minReady });
    const pods = (await this.options.driver.listPods()).filter((p) => p.pool === pool.name);
    const byId = new Map(pods.map((p) => [p.id, p]));
    const warm = await this.pruneWarm(pool, byId);
    const live = await this.loadLiveSessions(pool);
    await this.healHeldPods(live, byId);
    await this.reapOrphans(pool, pods, new Set(warm), live);
    await this.syncSlots(pool, live);
    await this.scale(pool, warm);
  }

  /** Warm pods whose process died are dropped from the list and deleted. Returns the healthy ids. */
  private async pruneWarm(pool: PoolSettings, byId: Map<string, PodStatus>): Promise<string[]> {
    const healthy: string[] = [];
    for (const id of await this.services.pools.warmIds(pool.name)) {
      const pod = byId.get(id);
      if (pod?.alive && (await this.options.driver.isHealthy(pod))) {
        this.failedChecks.delete(id);
        healthy.push(id);
        continue;
      }
      // A live process that misses one probe (a busy machine) gets another chance next pass.
      const failures = (this.failedChecks.get(id) ?? 0) + 1;
      if (pod?.alive && failures < UNHEALTHY_AFTER) {
        this.failedChecks.set(id, failures);
        healthy.push(id);
        continue;
      }
      this.failedChecks.delete(id);
      if (await this.services.pools.removeWarm(pool.name, id)) {
        this.options.log.warn({ podId: id }, 'warm pod is dead; replacing it');
        await this.deletePod(id);
      }
    }
    return healthy;
  }

  private async loadLiveSessions(
    pool: PoolSettings,
  ): Promise<Map<string, { session: Session; podId: string | null }>> {
    const live = new Map<string, { session: Session; podId: string | null }>();
    for (const id of await liveSessionIds(this.services.db, pool.name)) {
      const session = await getSession(this.services.db, id);
      if (!session || isTerminal(session.status)) continue;
      const podId = session.podId ?? (await this.services.pools.sessionPod(id));
      live.set(id, { session, podId });
      if (session.status === 'QUEUED' && Date.now() - session.createdAt.getTime() > STUCK_QUEUED_MS) {
        await this.services.jobs.enqueue('provision', { sessionId: id }, { jobId: jobIds.provision(id) });
      }
    }
    return live;
  }

  /** A RUNNING session whose pod is gone ends ERRORED (runtime_failure); its clients are disconnected. */
  private async healHeldPods(
    live: Map<string, { session: Session; podId: string | null }>,
    byId: Map<string, PodStatus>,
  ): Promise<void> {
    for (const { session, podId } of live.values()) {
      if (session.status !== 'RUNNING' || !podId) continue;
      if (byId.get(podId)?.alive) continue;
      // The pod list is a snapshot from the start of the pass: a pod cold-started since is not in it.
      if ((await this.options.driver.getPod(podId))?.alive) continue;
      this.options.log.warn({ sessionId: session.id, podId }, 'held pod died; session errored');
      await endSession(this.services, {
        sessionId: session.id,
        reason: 'runtime_failure',
        actor: 'pool-controller',
        auditClass: 'system',
        error: 'The browser runtime stopped unexpectedly',
      });
    }
  }

  /** Pods that no warm list, start or live session references, past a grace period, are deleted. */
  private async reapOrphans(
    pool: PoolSettings,
    pods: PodStatus[],
    warm: Set<string>,
    live: Map<string, { session: Session; podId: string | null }>,
  ): Promise<void> {
    const held = new Set([...live.values()].map((l) => l.podId).filter((id): id is string => id !== null));
    const starting = this.starting.get(pool.name) ?? new Set();
    for (const pod of pods) {
      if (warm.has(pod.id) || held.has(pod.id) || starting.has(pod.id)) continue;
      if (Date.now() - pod.createdAt.getTime() < ORPHAN_GRACE_MS) continue;
      this.options.log.warn({ podId: pod.id }, 'reaping orphan pod');
      await this.deletePod(pod.id);
    }
  }

  /** Slots held in Redis by sessions Postgres says have ended (or never committed) are freed. */
  private async syncSlots(
    pool: PoolSettings,
    live: Map<string, { session: Session; podId: string | null }>,
  ): Promise<void> {
    for (const id of await this.services.pools.activeAdmittedBefore(
      pool.name,
      Date.now() - ADMISSION_GRACE_MS,
    )) {
      if (live.has(id)) continue;
      const session = await getSession(this.services.db, id);
      if (session && isTerminal(session.status)) await afterEnd(this.services, id);
      else await this.services.pools.releaseSlot(pool.name, id);
    }
  }

  private async scale(pool: PoolSettings, warm: string[]): Promise<void> {
    const active = await this.services.pools.activeCount(pool.name);
    const starting = this.startingCount(pool.name);
    const desired = Math.max(0, Math.min(pool.minReady, pool.maxTotal - active));
    const excess = warm.length + starting - desired;
    if (excess > 0) {
      for (const id of warm.slice(0, excess)) {
        // Only a pod still on the list is ours to delete; one just claimed belongs to a session now.
        if (await this.services.pools.removeWarm(pool.name, id)) await this.deletePod(id);
      }
      return;
    }
    const room = pool.maxTotal - active - warm.length - starting;
    const maxStarting = pool.maxStarting ?? 4;
    const toStart = Math.min(-excess, room, Math.max(0, maxStarting - starting));
    for (let i = 0; i < toStart; i++) this.startPod(pool);
  }

  private startPod(pool: PoolSettings): void {
    const id = newId();
    const set = this.starting.get(pool.name) ?? new Set<string>();
    set.add(id);
    this.starting.set(pool.name, set);
    const started = Date.now();
    const creation = this.options.driver
      .createPod({ id, pool: pool.name, headless: this.options.headless })
      .then(async (pod) => {
        await this.services.pools.addWarm(pod);
        this.options.log.debug({ podId: id, ms: Date.now() - started }, 'warm pod ready');
      })
      .catch((err: unknown) => {
        this.options.log.error({ err, podId: id }, 'failed to start a warm pod');
        return this.deletePod(id);
      })
      .finally(() => set.delete(id))
      // Never an unhandled rejection, even when Redis is already closed at shutdown.
      .catch(() => {});
    this.creations.add(creation);
    void creation.finally(() => this.creations.delete(creation));
  }

  /** Resolves once every pod start this reconciler began has finished or failed. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.creations]);
  }

  private async deletePod(id: string): Promise<void> {
    await this.options.driver
      .deletePod(id)
      .catch((err: unknown) => this.options.log.error({ err, podId: id }, 'delete failed'));
    await this.services.pools.forgetPod(id);
  }
}
