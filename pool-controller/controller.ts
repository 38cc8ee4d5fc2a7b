/**
 * The controller loop: while it holds the leader lock, reconcile every pool each interval (the full
 * pass: Redis against Postgres, probes of every warm pod, the live sessions' janitor, orphans), and
 * refill at once when a pod is claimed or a session ends (pool-changed events): a refill pass only
 * starts or retires warm pods to the pool's settings, so its work does not grow with the number of
 * warm pods or live sessions, and a claimed pod is replaced while the pool drains.
 */
import type { Redis } from 'ioredis';
import { listPools } from '../core/db/pools.repository.ts';
import { anySessionEver } from '../core/db/sessions.repository.ts';
import { LeaderLock } from '../core/redis/leader-lock.ts';
import type { RuntimeDriver } from '../core/runtime/driver.ts';
import type { Services } from '../core/services.ts';
import { PoolReconciler } from './reconciler.ts';
import { sweepDeadProxies } from './dead-proxy-sweep.ts';
import { runtimeKindProblem } from '../core/runtime/runtime-kinds.ts';
import { subscribeWhenReady } from '../core/redis/subscribe.ts';

/** `full`: the whole reconcile pass; `refill`: only start or retire warm pods (after a claim). */
type PassKind = 'full' | 'refill';

export interface ControllerOptions {
  driver: RuntimeDriver;
  headless: boolean;
  intervalMs: number;
}

export interface RunningController {
  readonly reconciler: PoolReconciler;
  isLeader(): boolean;
  /** Runs one pass now and resolves when it is done (tests, CLI). */
  reconcileNow(): Promise<void>;
  close(): Promise<void>;
}

export async function startController(
  services: Services,
  subscriber: Redis,
  options: ControllerOptions,
): Promise<RunningController> {
  const log = services.log.child({ component: 'pool-controller' });
  const lock = new LeaderLock(
    services.redis,
    services.redisKeys.controllerLeader(),
    Math.max(3000, options.intervalMs * 5),
  );
  const reconciler = new PoolReconciler(services, {
    driver: options.driver,
    headless: options.headless,
    log,
    lease: lock,
  });
  let stopped = false;
  let running: Promise<void> | undefined;
  /** The pass asked for while one ran (a full pass does a refill's work too). */
  let again: PassKind | undefined;
  /** Pools already reported as unrunnable on this driver (warned once, not every pass). */
  const skipped = new Set<string>();

  /** The pools this driver can run; a pool it cannot run is warned about once. */
  async function runnablePools() {
    const pools = await listPools(services.db);
    return pools.filter((pool) => {
      // A pool this driver cannot run (an rda pool on the local driver) gets no pods; its sessions
      // were refused at creation already.
      const problem = runtimeKindProblem(options.driver.kind, pool.runtimeKind);
      if (problem && !skipped.has(pool.name)) log.warn({ pool: pool.name }, `pool skipped: ${problem}`);
      if (problem) skipped.add(pool.name);
      return !problem;
    });
  }

  async function pass(kind: PassKind): Promise<void> {
    if (!(await lock.tryAcquire())) return;
    if (kind === 'refill') {
      for (const pool of await runnablePools()) await reconciler.refill(pool);
      return;
    }
    const recover = await services.poolSignals.stateLost();
    // A brand-new installation has no Redis state yet either: only a used one can have lost some.
    if (recover && (await anySessionEver(services.db)))
      log.warn('Redis lost its data; rebuilding from Postgres and the driver');
    else if (recover) log.debug('first start on this Redis: recording its state');
    await sweepDeadProxies(services, log);
    for (const pool of await runnablePools()) await reconciler.reconcile(pool, { recover });
    if (recover) await services.poolSignals.markStateKnown();
  }

  /**
   * Coalesces triggers: at most one pass runs, and one more follows if anything asked meanwhile
   * (a full one if any trigger asked for it), after a pause as long as the pass took (at most 1 s).
   * A full pass reads every live session of a pool: back-to-back full passes would take a whole
   * core at 10,000 sessions; this keeps the controller at half of one at most. Passes never overlap,
   * so two never count the same starting pod twice.
   */
  function trigger(kind: PassKind): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      again = again === 'full' ? 'full' : kind;
      return running;
    }
    const started = performance.now();
    running = pass(kind)
      .catch((err: unknown) => log.error({ err }, 'reconcile failed'))
      .finally(() => {
        if (again && !stopped) {
          const next = again;
          again = undefined;
          const pause = Math.min(1000, performance.now() - started);
          running = new Promise<void>((resolve) => setTimeout(resolve, pause)).then(() => {
            running = undefined;
            return trigger(next);
          });
          return;
        }
        running = undefined;
      });
    return running;
  }

  subscriber.on('message', (channel: string) => {
    if (channel === services.redisKeys.poolChangedChannel()) void trigger('refill');
  });
  await subscribeWhenReady(subscriber, services.redisKeys.poolChangedChannel());
  const timer = setInterval(() => void trigger('full'), options.intervalMs);
  void trigger('full');

  return {
    reconciler,
    isLeader: () => lock.isLeader,
    reconcileNow: async () => {
      await running;
      await trigger('full');
    },
    async close() {
      stopped = true;
      clearInterval(timer);
      reconciler.scaler.stop();
      await running;
      await subscriber.unsubscribe().catch(() => {});
      await lock.release().catch(() => {});
    },
  };
}
