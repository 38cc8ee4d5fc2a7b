/**
 * The warm pods of each pool in Redis: the list sessions claim from, the pods being started for it,
 * and how long recent starts took. A pod's record and which session holds it: pod-records.ts.
 */
import type { Redis } from 'ioredis';
import { withCommands, type VentusRedis } from './commands.ts';
import type { RedisKeys } from './keys.ts';
import type { Pod } from '../runtime/driver.ts';
import { PodRecords, podRecordJson } from './pod-records.ts';

const WARMUP_SAMPLES = 50;

export type WarmAdd = 'added' | 'no-room' | 'not-leader';

export class WarmPods {
  private readonly redis: VentusRedis;
  private readonly podRecords: PodRecords;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    this.redis = withCommands(redis);
    this.podRecords = new PodRecords(redis, keys);
  }

  /**
   * Puts a started pod on the warm list if it fits (warm + admitted < max_total) and `leaderToken`
   * still holds the controller lease. A pod that is not added is the caller's to delete.
   */
  async add(pod: Pod, leaderToken: string): Promise<WarmAdd> {
    const result = await this.redis.addWarm(
      this.keys.poolWarm(pod.pool),
      this.keys.poolActive(pod.pool),
      this.keys.poolLimits(pod.pool),
      this.keys.pod(pod.id),
      this.keys.controllerLeader(),
      pod.id,
      podRecordJson(pod),
      leaderToken,
    );
    return result === 1 ? 'added' : result === 0 ? 'no-room' : 'not-leader';
  }

  async ids(pool: string): Promise<string[]> {
    return this.redis.lrange(this.keys.poolWarm(pool), 0, -1);
  }

  /** Takes a pod off the warm list (scale-down, failed health check). True when it was there. */
  async remove(pool: string, podId: string): Promise<boolean> {
    return (await this.redis.lrem(this.keys.poolWarm(pool), 0, podId)) > 0;
  }

  /** Claims a warm pod for the session (or returns the one it claimed before). */
  async claim(pool: string, sessionId: string): Promise<Pod | undefined> {
    const podId = await this.redis.claim(this.keys.poolWarm(pool), this.keys.sessionPod(sessionId));
    if (!podId) return undefined;
    return this.podRecords.getPod(podId);
  }

  async markStarting(pool: string, podId: string): Promise<void> {
    await this.redis.sadd(this.keys.poolStarting(pool), podId);
  }

  async doneStarting(pool: string, podId: string): Promise<void> {
    await this.redis.srem(this.keys.poolStarting(pool), podId);
  }

  async startingIds(pool: string): Promise<string[]> {
    return this.redis.smembers(this.keys.poolStarting(pool));
  }

  /** Records how long a pod took to become ready (the last 50 starts are kept). */
  async recordWarmup(pool: string, ms: number): Promise<void> {
    await this.redis
      .multi()
      .lpush(this.keys.poolWarmupSamples(pool), Math.round(ms))
      .ltrim(this.keys.poolWarmupSamples(pool), 0, WARMUP_SAMPLES - 1)
      .exec();
  }

  /** Median of the recent pod start durations (ms), or undefined before the first start. */
  async warmupMs(pool: string): Promise<number | undefined> {
    const samples = (await this.redis.lrange(this.keys.poolWarmupSamples(pool), 0, -1))
      .map(Number)
      .sort((a, b) => a - b);
    return samples.length ? samples[Math.floor(samples.length / 2)] : undefined;
  }
}
