/**
 * One reconcile pass over one pool, in a fixed order: bring Redis back to what Postgres says, then
 * let the session janitor tend the live sessions and the fleet scaler the pods (replace dead warm
 * pods, reap orphans, start or retire warm pods to the pool's settings).
 */
import { listLiveSessions } from '../core/db/live-sessions.repository.ts';
import type { PoolSettings } from '../core/db/pools.repository.ts';
import { restorePoolSlots } from '../core/pools/restore-slots.ts';
import { PodFleet } from '../core/pools/pod-fleet.ts';
import type { RuntimeDriver } from '../core/runtime/driver.ts';
import type { Services } from '../core/services.ts';
import type { Logger } from '../core/logging/logger.ts';
import { recoverLostRedisState, type RedisRecoveryDeps } from './redis-recovery.ts';
import { FleetScaler } from './fleet-scaler.ts';
import { SessionJanitor, type SessionJanitorDeps } from './session-janitor.ts';
import type { Lease } from './lease.ts';

export interface ReconcilerOptions {
  driver: RuntimeDriver;
  headless: boolean;
  log: Logger;
  lease: Lease;
}

/**
 * The janitor's and the Redis recovery's deps, plus the pool stores, metrics and orphan grace the
 * fleet (scaler) works with.
 */
export type ReconcilerDeps = SessionJanitorDeps &
  RedisRecoveryDeps &
  Pick<Services, 'config' | 'metrics' | 'warmPods'>;

export class PoolReconciler {
  readonly scaler: FleetScaler;
  private readonly janitor: SessionJanitor;

  constructor(
    private readonly services: ReconcilerDeps,
    private readonly options: ReconcilerOptions,
  ) {
    const { driver, headless, log, lease } = options;
    this.scaler = new FleetScaler({
      fleet: new PodFleet({ ...services, driver, headless }),
      driver,
      warmPods: services.warmPods,
      metrics: services.metrics,
      orphanGraceMs: services.config.orphanGraceMs,
      refillDelayMs: services.config.refillDelayMs,
      lease,
      log,
    });
    this.janitor = new SessionJanitor(services, driver, log);
  }

  startingCount(pool: string): number {
    return this.scaler.startingCount(pool);
  }

  /** `recover`: Redis lost its data since the last pass; rebuild routes and jobs from Postgres. */
  async reconcile(pool: PoolSettings, { recover = false } = {}): Promise<void> {
    const { driver, log } = this.options;
    const live = await listLiveSessions(this.services.db, pool.name);
    await restorePoolSlots(this.services, pool, live);
    if (recover) await recoverLostRedisState(this.services, driver, live, log);
    await this.scaler.forgetStaleStarts(pool);
    const pods = (await driver.listPods()).filter((p) => p.pool === pool.name);
    const byId = new Map(pods.map((p) => [p.id, p]));
    const warm = await this.scaler.pruneWarm(pool, byId);
    const held = await this.janitor.heldPods(live);
    await this.janitor.requeueStuck(live);
    await this.janitor.healHeldPods(pool.name, live, held, byId);
    await this.scaler.reapOrphans(pool, pods, new Set(warm), new Set(held.values()));
    await this.janitor.syncSlots(pool, new Set(live.map((s) => s.id)));
    await this.scaler.scale(pool, await this.services.poolSlots.activeCount(pool.name));
  }

  /**
   * The refill after a claim or an ending: start or retire warm pods to the pool's settings, and
   * nothing else (no listing, no probes, no live sessions read), so it costs the same at any size.
   */
  async refill(pool: PoolSettings): Promise<void> {
    await this.scaler.scale(pool, await this.services.poolSlots.activeCount(pool.name));
  }

  /** Resolves once every pod start this reconciler began has finished or failed. */
  async settle(): Promise<void> {
    await this.scaler.settle();
  }
}
