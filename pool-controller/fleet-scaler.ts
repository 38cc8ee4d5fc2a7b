/**
 * The pool's pods, kept to `warm + starting >= min(min_ready, max_total - admitted)` and never more
 * than `max_total`: dead warm pods are replaced, extra ones retired, pods nobody references reaped.
 * Every pod it starts or deletes is fenced by the leader lease: a controller that lost it changes
 * nothing.
 *
 * A replacement waits a moment (VENTUS_POOL_REFILL_DELAY_MS) while at least half the pool is still
 * warm. A pod's start takes the machine's CPU for about 0.3 s, and a claim's refill would otherwise
 * start it exactly when the session that claimed a pod connects and loads its first page: on two
 * cores that start made the warm lifecycle 23-28 ms slower (load-tests/lifecycle-steps.ts). The
 * pod counts as starting from the moment it is decided, so no pass starts it twice. Once the pool is
 * less than half warm its replacements start at once, those still waiting included.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_MAX_STARTING, type PoolSettings } from '../core/db/pools.repository.ts';
import { newId } from '../core/domain/ids.ts';
import type { PodFleet } from '../core/pools/pod-fleet.ts';
import type { PodStatus, RuntimeDriver } from '../core/runtime/driver.ts';
import type { WarmPods } from '../core/redis/warm-pods.ts';
import type { Metrics } from '../core/metrics/metrics.ts';
import type { Logger } from '../core/logging/logger.ts';
import type { Lease } from './lease.ts';

/** Failed probes in a row before a warm pod whose process still runs is replaced. */
const UNHEALTHY_AFTER = 3;
/**
 * How often the browser of a warm pod whose process runs is probed (a pod whose process died is
 * seen on every pass, from the driver's listing). A probe costs the pod ~9–13 ms of CPU (the agent
 * asks Chromium over a fresh DevTools connection; load-tests/pod-idle.ts), so probing each warm pod
 * on every 1 s pass cost a pool of 8 about 5 % of a 2-core machine; and a wedged warm browser is
 * rare and costs no user anything but a claim's fallback, since the claim (POST /session) is the
 * warm pod's health check too.
 */
export const WARM_PROBE_INTERVAL_MS = 5_000;

export interface FleetScalerDeps {
  fleet: PodFleet;
  driver: RuntimeDriver;
  warmPods: WarmPods;
  metrics: Pick<Metrics, 'orphansReaped'>;
  /** How long a pod must look unreferenced before it is reaped (VENTUS_ORPHAN_GRACE_MS). */
  orphanGraceMs: number;
  /** How long a replacement waits while half the pool is still warm (VENTUS_POOL_REFILL_DELAY_MS). */
  refillDelayMs: number;
  lease: Lease;
  log: Logger;
}

export class FleetScaler {
  /** Pods being started by this controller, per pool. */
  private readonly starting = new Map<string, Set<string>>();
  private readonly creations = new Set<Promise<void>>();
  /** Consecutive failed health probes per warm pod. */
  private readonly failedChecks = new Map<string, number>();
  /** Per pool, when each warm pod's browser was last probed. */
  private readonly probedAt = new Map<string, Map<string, number>>();
  /** When the reaper first saw each pod unreferenced. */
  private readonly unreferencedSince = new Map<string, number>();
  /** Set by stop(): a start still waiting out its delay then never begins. */
  private stopped = false;
  /**
   * Per pool, ends the waits of its starts still waiting out the delay: aborted once the pool is less
   * than half warm (they go at once) and by stop() (they are dropped).
   */
  private readonly hurry = new Map<string, AbortController>();

  constructor(private readonly deps: FleetScalerDeps) {}

  /** The controller is stopping: drop the starts still waiting (settle() then resolves at once). */
  stop(): void {
    this.stopped = true;
    for (const waits of this.hurry.values()) waits.abort();
    this.hurry.clear();
  }

  startingCount(pool: string): number {
    return this.starting.get(pool)?.size ?? 0;
  }

  /** Starts recorded in Redis by a controller that is gone (or this one before a restart). */
  async forgetStaleStarts(pool: PoolSettings): Promise<void> {
    const mine = this.starting.get(pool.name) ?? new Set();
    for (const id of await this.deps.warmPods.startingIds(pool.name)) {
      if (!mine.has(id)) await this.deps.warmPods.doneStarting(pool.name, id);
    }
  }

  /**
   * Warm pods whose process died, or whose browser failed its last probes, are dropped from the list
   * and deleted. Returns the healthy ids.
   */
  async pruneWarm(pool: PoolSettings, byId: Map<string, PodStatus>): Promise<string[]> {
    const { driver, log } = this.deps;
    const healthy: string[] = [];
    const now = Date.now();
    const ids = await this.deps.warmPods.ids(pool.name);
    const probedAt = new Map<string, number>();
    const before = this.probedAt.get(pool.name) ?? new Map<string, number>();
    // Only pods still on the list are remembered: claimed and retired ones are forgotten. A pod new
    // to the list answered its start's readiness check a moment ago: its first probe is due later.
    for (const id of ids) probedAt.set(id, before.get(id) ?? now);
    this.probedAt.set(pool.name, probedAt);
    for (const id of ids) {
      // A pod still starting when this pass listed the pods (the listing leaves it out) may have
      // joined the warm list since: look it up on its own before calling it gone.
      const pod = byId.get(id) ?? (await driver.getPod(id));
      if (pod?.alive && now - probedAt.get(id)! < WARM_PROBE_INTERVAL_MS) {
        healthy.push(id); // its browser answered (or is being given another chance) a moment ago
        continue;
      }
      if (pod?.alive) probedAt.set(id, now);
      if (pod?.alive && (await driver.isHealthy(pod))) {
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
      probedAt.delete(id);
      if (await this.retireWarm(pool.name, id)) log.warn({ podId: id }, 'warm pod is dead; replacing it');
    }
    return healthy;
  }

  /**
   * Pods that no warm list, start or live session references are deleted once they have looked
   * unreferenced for the grace period.
   */
  async reapOrphans(
    pool: PoolSettings,
    pods: PodStatus[],
    warm: Set<string>,
    held: Set<string>,
  ): Promise<void> {
    const starting = this.starting.get(pool.name) ?? new Set();
    const now = Date.now();
    const seen = new Set<string>();
    const grace = this.deps.orphanGraceMs;
    for (const pod of pods) {
      seen.add(pod.id);
      if (warm.has(pod.id) || held.has(pod.id) || starting.has(pod.id)) {
        this.unreferencedSince.delete(pod.id);
        continue;
      }
      const since = this.unreferencedSince.get(pod.id) ?? now;
      this.unreferencedSince.set(pod.id, since);
      // Two sightings a grace period apart: a worker may be between claiming a pod and recording it.
      if (now - since < grace || now - pod.createdAt.getTime() < grace) continue;
      // Fenced: a controller that lost the lease deletes nothing.
      if (!(await this.deps.lease.stillHeld())) return;
      this.deps.log.warn({ podId: pod.id }, 'reaping orphan pod');
      this.unreferencedSince.delete(pod.id);
      await this.retire(pod.id);
      this.deps.metrics.orphansReaped.inc({ pool: pool.name });
    }
    for (const id of this.unreferencedSince.keys()) if (!seen.has(id)) this.unreferencedSince.delete(id);
  }

  /** Starts or retires warm pods until the pool has what its settings and admitted sessions ask. */
  async scale(pool: PoolSettings, admitted: number): Promise<void> {
    // Pods finish starting while a pass runs: count each pod once, whether it is still starting or
    // already warm. The starting set is read first: a pod leaves it only after joining the warm list,
    // so the fresh warm list read next has every pod that left it (none counted twice, none missed).
    const startingIds = [...(this.starting.get(pool.name) ?? [])];
    const warmNow = await this.deps.warmPods.ids(pool.name);
    const warm = warmNow.filter((id) => !startingIds.includes(id));
    const starting = startingIds.length;
    const desired = Math.max(0, Math.min(pool.minReady, pool.maxTotal - admitted));
    const halfWarm = warm.length * 2 >= desired;
    if (!halfWarm) {
      this.hurry.get(pool.name)?.abort();
      this.hurry.delete(pool.name);
    }
    const excess = warm.length + starting - desired;
    if (excess > 0) {
      // Only a pod still on the list is ours to delete; one just claimed belongs to a session now.
      for (const id of warm.slice(0, excess)) await this.retireWarm(pool.name, id);
      return;
    }
    const room = pool.maxTotal - admitted - warm.length - starting;
    const maxStarting = pool.maxStarting ?? DEFAULT_MAX_STARTING;
    const toStart = Math.min(-excess, room, Math.max(0, maxStarting - starting));
    if (toStart > 0 && !(await this.deps.lease.stillHeld())) return;
    for (let i = 0; i < toStart; i++) this.startPod(pool, halfWarm ? this.deps.refillDelayMs : 0);
  }

  /** Resolves once every pod start this scaler began has finished or failed. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.creations]);
  }

  private startPod(pool: PoolSettings, delayMs: number): void {
    const id = newId();
    const set = this.starting.get(pool.name) ?? new Set<string>();
    set.add(id);
    this.starting.set(pool.name, set);
    const { log } = this.deps;
    const creation = this.refillDelay(pool.name, delayMs)
      .then(async (go) => {
        if (!go) return log.debug({ podId: id }, 'controller stopping: a delayed pod start dropped');
        const { outcome, ms } = await this.deps.fleet.startWarm(id, pool, this.deps.lease.token);
        if (outcome === 'added') log.debug({ podId: id, ms }, 'warm pod ready');
        else log.info({ podId: id, why: outcome }, 'started pod not needed any more; deleted it');
      })
      .catch((err: unknown) => log.error({ err, podId: id }, 'failed to start a warm pod'))
      .finally(() => set.delete(id));
    this.creations.add(creation);
    void creation.finally(() => this.creations.delete(creation));
  }

  /**
   * Waits `delayMs`, less if the pool drains meanwhile. False when the scaler stopped during the
   * wait: the start is dropped.
   */
  private async refillDelay(pool: string, delayMs: number): Promise<boolean> {
    if (delayMs <= 0) return true;
    if (this.stopped) return false;
    let hurry = this.hurry.get(pool);
    if (!hurry) this.hurry.set(pool, (hurry = new AbortController()));
    await sleep(delayMs, undefined, { signal: hurry.signal }).catch(() => undefined); // hurried or stopped
    return !this.stopped;
  }

  private async retireWarm(pool: string, id: string): Promise<boolean> {
    return this.deps.fleet.retireWarm(pool, id).catch((err: unknown) => {
      this.deps.log.error({ err, podId: id }, 'delete failed');
      return true;
    });
  }

  private async retire(id: string): Promise<void> {
    await this.deps.fleet
      .retire(id)
      .catch((err: unknown) => this.deps.log.error({ err, podId: id }, 'delete failed'));
  }
}
