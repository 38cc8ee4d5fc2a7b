/**
 * What the pool controller hears and what it leaves behind in Redis: the pool-changed wake-up (a pod
 * was claimed, a session ended, settings changed) and the epoch that tells it Redis lost its data.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.ts';

export class PoolSignals {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Wakes the pool controller (a pod was claimed, a session ended, the settings changed). */
  async changed(pool: string): Promise<void> {
    await this.redis.publish(this.keys.poolChangedChannel(), pool);
  }

  /**
   * True when Redis lost its data (a flush, a restart without persistence) since `markStateKnown`:
   * the controller then rebuilds what only Postgres and the driver still know.
   */
  async stateLost(): Promise<boolean> {
    return (await this.redis.exists(this.keys.stateEpoch())) === 0;
  }

  async markStateKnown(): Promise<void> {
    await this.redis.set(this.keys.stateEpoch(), new Date().toISOString());
  }
}
