/**
 * Pool figures over time, for the dashboard's pools page. The `pool-history-sample` job (scheduled
 * by the workers, run once per interval whatever the number of replicas) samples every pool's live
 * figures into a bounded Redis list (the last hour), so an operator who opens the page sees the past
 * hour at once, whichever broker answers (core/redis/pool-history.store.ts).
 */
import { listPools } from '../db/pools.repository.ts';
import { PoolHistoryStore } from '../redis/pool-history.store.ts';
import type { Services } from '../services.ts';
import { poolView, type PoolViewDeps } from './pool-view.ts';

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

/** Where the history lives: one bounded list per pool in Redis. */
export type PoolHistoryDeps = Pick<Services, 'redis' | 'redisKeys'>;

/** Sampling reads every pool's live figures and appends them to its history. */
export type PoolSamplingDeps = PoolHistoryDeps & PoolViewDeps;

/** Samples every pool once. */
export async function samplePools(services: PoolSamplingDeps): Promise<void> {
  const history = new PoolHistoryStore(services.redis, services.redisKeys);
  for (const pool of await listPools(services.db)) {
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
  services: PoolHistoryDeps,
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
