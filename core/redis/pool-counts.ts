/**
 * Every pool's live figures from Redis in two round trips, however many pools: one pipeline of LLEN
 * (ready), SCARD (warming) and ZRANGE (admitted) per pool, then one MGET per pool of the admitted
 * sessions' pods (held: admitted sessions with a pod recorded, a warm claim or a cold start).
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.ts';

export interface PoolCounts {
  ready: number;
  warming: number;
  held: number;
  admitted: number;
}

type PipelineResult = [Error | null, unknown][] | null;

function value<T>(results: PipelineResult, index: number): T {
  const entry = results?.[index];
  if (!entry) throw new Error('Redis pipeline returned no result');
  if (entry[0]) throw entry[0];
  return entry[1] as T;
}

/** The figures of each pool in `pools`, in the same order. */
export async function readPoolCounts(redis: Redis, keys: RedisKeys, pools: string[]): Promise<PoolCounts[]> {
  if (pools.length === 0) return [];
  const first = redis.pipeline();
  for (const pool of pools)
    first.llen(keys.poolWarm(pool)).scard(keys.poolStarting(pool)).zrange(keys.poolActive(pool), 0, -1);
  const counts = await first.exec();
  const admitted = pools.map((_, i) => value<string[]>(counts, i * 3 + 2));
  const second = redis.pipeline();
  const asked: number[] = [];
  admitted.forEach((ids, i) => {
    if (ids.length === 0) return;
    second.mget(ids.map((id) => keys.sessionPod(id)));
    asked.push(i);
  });
  const pods = asked.length > 0 ? await second.exec() : [];
  const held = new Map(
    asked.map((poolIndex, i) => [poolIndex, value<(string | null)[]>(pods, i).filter((p) => p).length]),
  );
  return pools.map((_, i) => ({
    ready: value<number>(counts, i * 3),
    warming: value<number>(counts, i * 3 + 1),
    held: held.get(i) ?? 0,
    admitted: admitted[i]!.length,
  }));
}
