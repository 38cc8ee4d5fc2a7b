/**
 * The pools' recent figures, for the dashboard's pools page: one bounded Redis list per pool, newest
 * first. With several broker replicas, a per-pool tick key (`SET NX PX`) lets one replica sample each
 * interval instead of every replica.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.ts';

export class PoolHistoryStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** True when this caller won the pool's tick for the next `ms` (no other replica samples it then). */
  async claimTick(pool: string, ms: number): Promise<boolean> {
    return (await this.redis.set(this.keys.poolHistoryTick(pool), '1', 'PX', ms, 'NX')) === 'OK';
  }

  /** Adds a sample (JSON) and keeps the newest `max`. */
  async append(pool: string, sample: unknown, max: number): Promise<void> {
    await this.redis
      .multi()
      .lpush(this.keys.poolHistory(pool), JSON.stringify(sample))
      .ltrim(this.keys.poolHistory(pool), 0, max - 1)
      .exec();
  }

  /** The newest `max` samples as stored (JSON text), newest first. */
  read(pool: string, max: number): Promise<string[]> {
    return this.redis.lrange(this.keys.poolHistory(pool), 0, max - 1);
  }
}
