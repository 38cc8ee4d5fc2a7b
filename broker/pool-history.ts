/**
 * Pool figures over time, for the dashboard's pools page. The broker samples every pool's live
 * figures every few seconds into a bounded Redis list (the last hour), so an operator who opens the
 * page sees the past hour at once, whichever replica answers (core/redis/pool-history.store.ts).
 */
import type { FastifyInstance } from 'fastify';
import { listPools } from '../core/db/pools.repository.ts';
import { PoolHistoryStore } from '../core/redis/pool-history.store.ts';
import type { Services } from '../core/services.ts';
import { poolView } from './pool-view.ts';

export const POOL_HISTORY_INTERVAL_MS = 5_000;
/** One hour at the default interval. */
export const POOL_HISTORY_SAMPLES = 720;

export interface PoolSample {
  at: string;
  ready: number;
  warming: number;
  held: number;
  admitted: number;
  queued: number;
  min_ready: number;
  max_total: number;
}

/** Samples every pool once (skipping pools another replica sampled within `intervalMs`). */
export async function samplePools(services: Services, intervalMs: number): Promise<void> {
  const history = new PoolHistoryStore(services.redis, services.redisKeys);
  for (const pool of await listPools(services.db)) {
    // Slightly shorter than the interval, so this replica's own next tick is never skipped.
    if (!(await history.claimTick(pool.name, Math.max(1, intervalMs - 200)))) continue;
    const view = await poolView(services, pool);
    const sample: PoolSample = {
      at: new Date().toISOString(),
      ready: view.status.ready,
      warming: view.status.warming,
      held: view.status.held,
      admitted: view.status.admitted,
      queued: view.status.queued,
      min_ready: view.min_ready,
      max_total: view.max_total,
    };
    await history.append(pool.name, sample, POOL_HISTORY_SAMPLES);
  }
}

/** The pool's samples of the last `minutes`, oldest first. */
export async function readPoolHistory(
  services: Services,
  pool: string,
  minutes: number,
): Promise<PoolSample[]> {
  const since = Date.now() - minutes * 60_000;
  const raw = await new PoolHistoryStore(services.redis, services.redisKeys).read(pool, POOL_HISTORY_SAMPLES);
  const samples: PoolSample[] = [];
  for (const text of raw) {
    try {
      const sample = JSON.parse(text) as PoolSample;
      if (Date.parse(sample.at) >= since) samples.push(sample);
    } catch {
      // A malformed entry (hand-edited Redis) is skipped, not a 500.
    }
  }
  return samples.reverse();
}

/**
 * Starts sampling when the app is ready and stops when it closes. A failed pass (Redis or Postgres
 * briefly away) is logged and the next one tries again: history is a convenience, never a fault.
 */
export function registerPoolSampler(app: FastifyInstance, services: Services, intervalMs: number): void {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = samplePools(services, intervalMs)
      .catch((err: unknown) => app.log.warn({ err }, 'pool history sample failed'))
      .finally(() => {
        running = undefined;
      });
  };
  app.addHook('onReady', async () => {
    tick();
    timer = setInterval(tick, intervalMs);
    timer.unref();
  });
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await running;
  });
}
