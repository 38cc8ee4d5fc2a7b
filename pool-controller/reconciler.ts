/**
 * One reconcile pass over one pool: keep `warm + starting >= min(min_ready, max_total - admitted)`,
 * never more pods than `max_total`, drop dead warm pods, end sessions whose pod died, delete pods
 * nobody references, and bring capacity counters back to what Postgres says. Every pod this pass
 * creates or deletes is fenced by the leader lease: a controller that lost it changes nothing.
 */
import type { RuntimeKind } from '../core/domain/session.schema.ts';
import { getSession, listLiveSessions, type Session } from '../core/db/sessions.repository.ts';
import { DEFAULT_MAX_STARTING, type PoolSettings } from '../core/db/pools.repository.ts';
import { endSession, afterEnd } from '../core/lifecycle/end-session.ts';
import { restorePoolSlots } from '../core/pools/restore-slots.ts';
import { newId } from '../core/domain/ids.ts';
import { isTerminal } from '../core/domain/session-states.ts';
import { jobIds } from '../core/queue/jobs.ts';
import type { PodStatus, RuntimeDriver } from '../core/runtime/driver.ts';
import type { Services } from '../core/services.ts';
import { destroyPod } from '../core/pools/destroy-pod.ts';
import type { Logger } from '../core/logging/logger.ts';
import { recoverLostRedisState } from './redis-recovery.ts';
import pLimit from 'p-limit';

/** An admitted slot younger than this may not have its Postgres row yet; leave it alone. */
const ADMISSION_GRACE_MS = 30_000;
/** Failed probes in a row before a warm pod whose process still runs is replaced. */
const UNHEALTHY_AFTER = 3;
/**
 * How often the browser of a held pod is probed. Its process living is not enough: a wedged browser
 * (stopped, deadlocked) answers nothing, and its session's CDP clients would wait forever.
 */
const HELD_PROBE_INTERVAL_MS = 5_000;
/**
 * Held-pod probes are rationed (least recently probed first) so that 10,000 sessions cost the
 * controller at most this many probes a second, not 2,000: at that scale a pod is probed every
 * ~100 s instead of every 5 s. Few in flight at once, so a probe's 1 s timeout measures the pod.
 */
const HELD_PROBES_PER_SECOND = 100;
const HELD_PROBES_IN_FLIGHT = 16;
/** QUEUED this long without being picked up: the provision enqueue was probably lost. */
const STUCK_QUEUED_MS = 10_000;
/** Longer than every provision attempt with its backoff: a session still PROVISIONING is stuck. */
const PROVISION_DEADLINE_MS = 5 * 60_000;

/** The controller's leader lease, as the reconciler needs it. */
export interface Lease {
  readonly token: string;
  /** Asks Redis whether the lease still holds this controller's token. */
  stillHeld(): Promise<boolean>;
}

export interface ReconcilerOptions {
  driver: RuntimeDriver;
  headless: boolean;
  log: Logger;
  lease: Lease;
}

export class PoolReconciler {
  /** Pods being created by this controller, per pool. */
  private readonly starting = new Map<string, Set<string>>();
  private readonly creations = new Set<Promise<void>>();
  /** Consecutive failed health probes per warm pod. */
  private readonly failedChecks = new Map<string, number>();
  /** Per pool, held pod -> when its browser was last probed, and its consecutive failed probes. */
  private readonly heldProbes = new Map<string, Map<string, { at: number; failures: number }>>();
  private readonly probeBudget = { at: Date.now(), tokens: HELD_PROBES_PER_SECOND };
  private readonly probeLimit = pLimit(HELD_PROBES_IN_FLIGHT);
  /** When the reaper first saw each pod unreferenced. */
  private readonly unreferencedSince = new Map<string, number>();

  constructor(
    private readonly services: Services,
    private readonly options: ReconcilerOptions,
  ) {}

  startingCount(pool: string): number {
    return this.starting.get(pool)?.size ?? 0;
  }

  /** `recover`: Redis lost its data since the last pass; rebuild routes and jobs from Postgres. */
  async reconcile(pool: PoolSettings, { recover = false } = {}): Promise<void> {
    const live = await listLiveSessions(this.services.db, pool.name);
    await restorePoolSlots(this.services, pool, live);
    if (recover) await recoverLostRedisState(this.services, this.options.driver, live, this.options.log);
    await this.forgetStaleStarts(pool);
    const pods = (await this.options.driver.listPods()).filter((p) => p.pool === pool.name);
    const byId = new Map(pods.map((p) => [p.id, p]));
    const warm = await this.pruneWarm(pool, byId);
    const held = await this.heldPods(live);
    await this.requeueStuck(live);
    await this.healHeldPods(pool.name, live, held, byId);
    await this.reapOrphans(pool, pods, new Set(warm), new Set(held.values()));
    await this.syncSlots(pool, new Set(live.map((s) => s.id)));
    await this.scale(pool);
  }

  /** Warm pods whose process died are dropped from the list and deleted. Returns the healthy ids. */
  private async pruneWarm(pool: PoolSettings, byId: Map<string, PodStatus>): Promise<string[]> {
    const healthy: string[] = [];
    for (const id of await this.services.poolState.warmIds(pool.name)) {
      // A pod still starting when this pass listed the pods (the listing leaves it out) may have
      // joined the warm list since: look it up on its own before calling it gone.
      const pod = byId.get(id) ?? (await this.options.driver.getPod(id));
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
      if (await this.services.poolState.removeWarm(pool.name, id)) {
        this.options.log.warn({ podId: id }, 'warm pod is dead; replacing it');
        await this.deletePod(id);
      }
    }
    return healthy;
  }

  /** Session id -> the pod it holds (Postgres once RUNNING, the claim record before). */
  private async heldPods(live: Session[]): Promise<Map<string, string>> {
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
  private async requeueStuck(live: Session[]): Promise<void> {
    for (const session of live) {
      const age = Date.now() - session.createdAt.getTime();
      if (session.status === 'QUEUED' && age > STUCK_QUEUED_MS) {
        await this.services.jobs.enqueue(
          'provision',
          { sessionId: session.id },
          { jobId: jobIds.provision(session.id) },
        );
      } else if (session.status === 'PROVISIONING' && age > PROVISION_DEADLINE_MS) {
        this.options.log.error({ sessionId: session.id }, 'provisioning never finished; session errored');
        await endSession(this.services, {
          sessionId: session.id,
          reason: 'provision_failed',
          actor: 'pool-controller',
          auditClass: 'system',
          error: 'The browser runtime failed to start',
        });
      }
    }
  }

  /**
   * A RUNNING session whose pod is gone, or whose browser stopped answering probes, ends ERRORED
   * (runtime_failure); its clients are disconnected.
   */
  private async healHeldPods(
    pool: string,
    live: Session[],
    held: Map<string, string>,
    byId: Map<string, PodStatus>,
  ): Promise<void> {
    const probes = this.heldProbes.get(pool) ?? new Map<string, { at: number; failures: number }>();
    this.heldProbes.set(pool, probes);
    await this.probeHeldPods(probes, live, held, byId);
    for (const session of live) {
      const podId = held.get(session.id);
      if (session.status !== 'RUNNING' || !podId) continue;
      if ((probes.get(podId)?.failures ?? 0) >= UNHEALTHY_AFTER) {
        this.options.log.warn(
          { sessionId: session.id, podId },
          'held pod stopped answering; session errored',
        );
        probes.delete(podId);
        await endSession(this.services, {
          sessionId: session.id,
          reason: 'runtime_failure',
          actor: 'pool-controller',
          auditClass: 'system',
          error: 'The browser runtime stopped responding',
        });
        continue;
      }
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

  /** Probes the browsers of RUNNING sessions' live pods not probed for an interval, within the budget. */
  private async probeHeldPods(
    probes: Map<string, { at: number; failures: number }>,
    live: Session[],
    held: Map<string, string>,
    byId: Map<string, PodStatus>,
  ): Promise<void> {
    const now = Date.now();
    const due: PodStatus[] = [];
    const current = new Set<string>();
    for (const session of live) {
      const pod = byId.get(held.get(session.id) ?? '');
      if (session.status !== 'RUNNING' || !pod?.alive) continue;
      current.add(pod.id);
      const last = probes.get(pod.id);
      if (!last)
        probes.set(pod.id, { at: now, failures: 0 }); // just claimed: probe next interval
      else if (now - last.at >= HELD_PROBE_INTERVAL_MS) due.push(pod);
    }
    for (const id of probes.keys()) if (!current.has(id)) probes.delete(id);
    const budget = this.probeBudget;
    budget.tokens = Math.min(
      HELD_PROBES_PER_SECOND,
      budget.tokens + ((now - budget.at) / 1000) * HELD_PROBES_PER_SECOND,
    );
    budget.at = now;
    due.sort((a, b) => probes.get(a.id)!.at - probes.get(b.id)!.at);
    const turn = due.slice(0, Math.floor(budget.tokens));
    budget.tokens -= turn.length;
    await Promise.all(
      turn.map((pod) =>
        this.probeLimit(async () => {
          const healthy = await this.options.driver.isHealthy(pod).catch(() => false);
          const failures = healthy ? 0 : (probes.get(pod.id)?.failures ?? 0) + 1;
          probes.set(pod.id, { at: Date.now(), failures });
        }),
      ),
    );
  }

  /**
   * Pods that no warm list, start or live session references are deleted once they have looked
   * unreferenced for the grace period (VENTUS_ORPHAN_GRACE_MS).
   */
  private async reapOrphans(
    pool: PoolSettings,
    pods: PodStatus[],
    warm: Set<string>,
    held: Set<string>,
  ): Promise<void> {
    const starting = this.starting.get(pool.name) ?? new Set();
    const now = Date.now();
    const seen = new Set<string>();
    for (const pod of pods) {
      seen.add(pod.id);
      if (warm.has(pod.id) || held.has(pod.id) || starting.has(pod.id)) {
        this.unreferencedSince.delete(pod.id);
        continue;
      }
      const since = this.unreferencedSince.get(pod.id) ?? now;
      this.unreferencedSince.set(pod.id, since);
      // Two sightings a grace period apart: a worker may be between claiming a pod and recording it.
      const grace = this.services.config.orphanGraceMs;
      if (now - since < grace || now - pod.createdAt.getTime() < grace) continue;
      // Fenced: a controller that lost the lease deletes nothing.
      if (!(await this.options.lease.stillHeld())) return;
      this.options.log.warn({ podId: pod.id }, 'reaping orphan pod');
      this.unreferencedSince.delete(pod.id);
      await this.deletePod(pod.id);
      this.services.metrics.orphansReaped.inc({ pool: pool.name });
    }
    for (const id of this.unreferencedSince.keys()) if (!seen.has(id)) this.unreferencedSince.delete(id);
  }

  /** Slots held in Redis by sessions Postgres says have ended (or never committed) are freed. */
  private async syncSlots(pool: PoolSettings, live: Set<string>): Promise<void> {
    for (const id of await this.services.poolState.activeAdmittedBefore(
      pool.name,
      Date.now() - ADMISSION_GRACE_MS,
    )) {
      if (live.has(id)) continue;
      const session = await getSession(this.services.db, id);
      if (session && isTerminal(session.status)) await afterEnd(this.services, id);
      else await this.services.poolState.undoAdmission(pool.name, id);
    }
  }

  /** Starts recorded in Redis by a controller that is gone (or this one before a restart). */
  private async forgetStaleStarts(pool: PoolSettings): Promise<void> {
    const mine = this.starting.get(pool.name) ?? new Set();
    for (const id of await this.services.poolState.startingIds(pool.name)) {
      if (!mine.has(id)) await this.services.poolState.doneStarting(pool.name, id);
    }
  }

  private async scale(pool: PoolSettings): Promise<void> {
    const admitted = await this.services.poolState.activeCount(pool.name);
    // Pods finish starting while a pass runs: count each pod once, whether it is still starting or
    // already warm. The starting set is read first: a pod leaves it only after joining the warm list,
    // so the fresh warm list read next has every pod that left it (none counted twice, none missed).
    const startingIds = [...(this.starting.get(pool.name) ?? [])];
    const warmNow = await this.services.poolState.warmIds(pool.name);
    const warm = warmNow.filter((id) => !startingIds.includes(id));
    const starting = startingIds.length;
    const desired = Math.max(0, Math.min(pool.minReady, pool.maxTotal - admitted));
    const excess = warm.length + starting - desired;
    if (excess > 0) {
      for (const id of warm.slice(0, excess)) {
        // Only a pod still on the list is ours to delete; one just claimed belongs to a session now.
        if (await this.services.poolState.removeWarm(pool.name, id)) await this.deletePod(id);
      }
      return;
    }
    const room = pool.maxTotal - admitted - warm.length - starting;
    const maxStarting = pool.maxStarting ?? DEFAULT_MAX_STARTING;
    const toStart = Math.min(-excess, room, Math.max(0, maxStarting - starting));
    if (toStart > 0 && !(await this.options.lease.stillHeld())) return;
    for (let i = 0; i < toStart; i++) this.startPod(pool);
  }

  private startPod(pool: PoolSettings): void {
    const id = newId();
    const set = this.starting.get(pool.name) ?? new Set<string>();
    set.add(id);
    this.starting.set(pool.name, set);
    const started = Date.now();
    const { poolState: pools } = this.services;
    const creation = pools
      .markStarting(pool.name, id)
      .then(() =>
        this.options.driver.createPod({
          id,
          pool: pool.name,
          headless: this.options.headless,
          runtimeKind: pool.runtimeKind as RuntimeKind,
          template: pool.podTemplate,
        }),
      )
      .then(async (pod) => {
        const ms = Date.now() - started;
        await pools.recordWarmup(pool.name, ms);
        this.services.metrics.podStartSeconds.observe({ pool: pool.name, kind: 'warm' }, ms / 1000);
        const added = await pools.addWarm(pod, this.options.lease.token);
        if (added === 'added') {
          this.options.log.debug({ podId: id, ms }, 'warm pod ready');
          return;
        }
        this.options.log.info({ podId: id, why: added }, 'started pod not needed any more; deleting it');
        await this.deletePod(id);
      })
      .catch((err: unknown) => {
        this.options.log.error({ err, podId: id }, 'failed to start a warm pod');
        return this.deletePod(id);
      })
      .finally(() => {
        set.delete(id);
        return pools.doneStarting(pool.name, id);
      })
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
    await destroyPod({ driver: this.options.driver, podRecords: this.services.podRecords }, id).catch(
      (err: unknown) => this.options.log.error({ err, podId: id }, 'delete failed'),
    );
  }
}
