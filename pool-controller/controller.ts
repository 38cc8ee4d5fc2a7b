/**
 * The controller loop: while it holds the leader lock, reconcile every pool each interval, and at once
 * when a pod is claimed or a session ends (pool-changed events), so a claimed pod is replaced quickly.
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
  let again = false;
  /** Pools already reported as unrunnable on this driver (warned once, not every pass). */
  const skipped = new Set<string>();

  async function pass(): Promise<void> {
    if (!(await lock.tryAcquire())) return;
    const recover = await services.poolSignals.stateLost();
    // A brand-new installation has no Redis state yet either: only a used one can have lost some.
    if (recover && (await anySessionEver(services.db)))
      log.warn('Redis lost its data; rebuilding from Postgres and the driver');
    else if (recover) log.debug('first start on this Redis: recording its state');
    await sweepDeadProxies(services, log);
    for (const pool of await listPools(services.db)) {
      // A pool this driver cannot run (an rda pool on the local driver) gets no pods; its sessions
      // were refused at creation already.
      const problem = runtimeKindProblem(options.driver.kind, pool.runtimeKind);
      if (problem) {
        if (!skipped.has(pool.name)) log.warn({ pool: pool.name }, `pool skipped: ${problem}`);
        skipped.add(pool.name);
        continue;
      }
      await reconciler.reconcile(pool, { recover });
    }
    if (recover) await services.poolSignals.markStateKnown();
  }

  /**
   * Coalesces triggers: at most one pass runs, and one more follows if anything asked meanwhile,
   * after a pause as long as the pass took (at most 1 s). A pass reads every live session of a
   * pool, so under a stream of pool-changed events back-to-back passes would take a whole core at
   * 10,000 sessions; this keeps the controller at half of one at most, and costs a small pool (a
   * pass of a few ms) a few ms of refill latency.
   */
  function trigger(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    const started = performance.now();
    running = pass()
      .catch((err: unknown) => log.error({ err }, 'reconcile failed'))
      .finally(() => {
        if (again && !stopped) {
          again = false;
          const pause = Math.min(1000, performance.now() - started);
          running = new Promise<void>((resolve) => setTimeout(resolve, pause)).then(() => {
            running = undefined;
            return trigger();
          });
          return;
        }
        running = undefined;
      });
    return running;
  }

  subscriber.on('message', (channel: string) => {
    if (channel === services.redisKeys.poolChangedChannel()) void trigger();
  });
  await subscribeWhenReady(subscriber, services.redisKeys.poolChangedChannel());
  const timer = setInterval(() => void trigger(), options.intervalMs);
  void trigger();

  return {
    reconciler,
    isLeader: () => lock.isLeader,
    reconcileNow: async () => {
      await running;
      await trigger();
    },
    async close() {
      stopped = true;
      clearInterval(timer);
      await running;
      await subscriber.unsubscribe().catch(() => {});
      await lock.release().catch(() => {});
    },
  };
}
