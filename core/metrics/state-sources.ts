/**
 * The scrape-time reads behind the pool and queue gauges. Their cost is bounded: one Postgres query
 * (the pools table), two Redis round trips for all pools together (core/redis/pool-counts.ts), one
 * count script per queue, and a timeout on the whole read. A Redis that is not connected fails at once instead of
 * queueing commands until it returns.
 */
import type { Redis } from 'ioredis';
import { listPools } from '../db/pools.repository.ts';
import type { Database } from '../db/database.ts';
import type { RedisKeys } from '../redis/keys.ts';
import { readPoolCounts } from '../redis/pool-counts.ts';
import type { JobProducer } from '../queue/producer.ts';
import type { MetricsSources, PoolSnapshot, QueueSnapshot } from './metrics.ts';

/** A scrape must answer even when a store hangs; Prometheus times out at 10 s by default. */
export const COLLECT_TIMEOUT_MS = 2_000;

/** Rejects with a clear message when `promise` has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Throws unless the client is connected (ioredis would otherwise queue the command until it is). */
export function assertRedisReady(redis: Redis): void {
  if (redis.status !== 'ready') throw new Error(`Redis connection is ${redis.status}`);
}

export async function readPoolSnapshots(
  db: Database,
  redis: Redis,
  keys: RedisKeys,
): Promise<PoolSnapshot[]> {
  const pools = await listPools(db);
  if (pools.length === 0) return [];
  assertRedisReady(redis);
  const counts = await readPoolCounts(
    redis,
    keys,
    pools.map((p) => p.name),
  );
  return pools.map((p, i) => ({
    pool: p.name,
    ...counts[i]!,
    maxTotal: p.maxTotal,
    minReady: p.minReady,
  }));
}

/** The sources a process's metrics read from: its own Postgres pool, Redis client and queues. */
export function storeSources(deps: {
  db: Database;
  redis: Redis;
  keys: RedisKeys;
  jobs: JobProducer;
}): MetricsSources {
  return {
    pools: () =>
      withTimeout(readPoolSnapshots(deps.db, deps.redis, deps.keys), COLLECT_TIMEOUT_MS, 'pool state'),
    queues: async (): Promise<QueueSnapshot[]> => {
      assertRedisReady(deps.redis);
      return withTimeout(deps.jobs.jobCounts(), COLLECT_TIMEOUT_MS, 'queue counts');
    },
  };
}
