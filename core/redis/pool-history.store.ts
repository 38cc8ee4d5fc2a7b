/**
 * The pools' recent figures, for the dashboard's pools page: one bounded Redis list per pool, newest
 * first. The `pool-history-sample` job (a BullMQ job scheduler: one run per interval, whatever the
 * number of workers) appends to it.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.ts';

export class PoolHistoryStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

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
