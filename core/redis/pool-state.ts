/**
 * The pool's fast path in Redis: slots held by admitted sessions, warm pods ready to claim, and who
 * claimed what. Everything here can be rebuilt from Postgres plus the driver's pod list.
 */
import type { Redis } from 'ioredis';
import { withCommands, type VentusRedis } from './commands.ts';
import type { RedisKeys } from './keys.ts';
import type { Pod } from '../runtime/driver.ts';

const WARMUP_SAMPLES = 50;

export type Admission = 'admitted' | 'full' | 'limits-unknown';

export interface PoolLimits {
  maxTotal: number;
  minReady: number;
}

interface StoredPod {
  id: string;
  pool: string;
  cdpUrl: string;
  controlUrl: string;
  createdAt: string;
}

export class PoolState {
  private readonly redis: VentusRedis;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    this.redis = withCommands(redis);
  }

  async publishLimits(pool: string, limits: PoolLimits): Promise<void> {
    await this.redis.hset(this.keys.poolLimits(pool), {
      max_total: limits.maxTotal,
      min_ready: limits.minReady,
    });
  }

  /** One atomic step: reserve a slot for the session, or report the pool full. */
  async admit(pool: string, sessionId: string, nowMs = Date.now()): Promise<Admission> {
    const result = await this.redis.admit(
      this.keys.poolActive(pool),
      this.keys.poolLimits(pool),
      sessionId,
      nowMs,
    );
    return result === 1 ? 'admitted' : result === 0 ? 'full' : 'limits-unknown';
  }

  /** Frees the session's slot. Idempotent. */
  async releaseSlot(pool: string, sessionId: string): Promise<void> {
    await this.redis.zrem(this.keys.poolActive(pool), sessionId);
  }

  async activeCount(pool: string): Promise<number> {
    return this.redis.zcard(this.keys.poolActive(pool));
  }

  /** Slot holders admitted before `beforeMs` (older ones can be checked against Postgres safely). */
  async activeAdmittedBefore(pool: string, beforeMs: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.poolActive(pool), '-inf', beforeMs);
  }

  /**
   * Puts a started pod on the warm list if it fits (warm + admitted < max_total) and `leaderToken`
   * still holds the controller lease. A pod that is not added is the caller's to delete.
   */
  async addWarm(pod: Pod, leaderToken: string): Promise<'added' | 'no-room' | 'not-leader'> {
    const stored: StoredPod = { ...pod, createdAt: pod.createdAt.toISOString() };
    const result = await this.redis.addWarm(
      this.keys.poolWarm(pod.pool),
      this.keys.poolActive(pod.pool),
      this.keys.poolLimits(pod.pool),
      this.keys.pod(pod.id),
      this.keys.controllerLeader(),
      pod.id,
      JSON.stringify(stored),
      leaderToken,
    );
    return result === 1 ? 'added' : result === 0 ? 'no-room' : 'not-leader';
  }

  /** Adds slots for admitted sessions Redis lost (a flush); existing slots keep their time. */
  async restoreSlots(pool: string, sessions: { id: string; admittedAtMs: number }[]): Promise<number> {
    if (sessions.length === 0) return 0;
    const args = sessions.flatMap((s) => [s.admittedAtMs, s.id]);
    return this.redis.zadd(this.keys.poolActive(pool), 'NX', ...args);
  }

  async activeIds(pool: string): Promise<string[]> {
    return this.redis.zrange(this.keys.poolActive(pool), 0, -1);
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

  async warmIds(pool: string): Promise<string[]> {
    return this.redis.lrange(this.keys.poolWarm(pool), 0, -1);
  }

  /** Takes a pod off the warm list (scale-down, failed health check). True when it was there. */
  async removeWarm(pool: string, podId: string): Promise<boolean> {
    return (await this.redis.lrem(this.keys.poolWarm(pool), 0, podId)) > 0;
  }

  /** Claims a warm pod for the session (or returns the one it claimed before). */
  async claim(pool: string, sessionId: string): Promise<Pod | undefined> {
    const podId = await this.redis.claim(this.keys.poolWarm(pool), this.keys.sessionPod(sessionId));
    if (!podId) return undefined;
    return this.getPod(podId);
  }

  async getPod(podId: string): Promise<Pod | undefined> {
    const raw = await this.redis.get(this.keys.pod(podId));
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as StoredPod;
    return { ...stored, createdAt: new Date(stored.createdAt) };
  }

  async recordPod(pod: Pod): Promise<void> {
    const stored: StoredPod = { ...pod, createdAt: pod.createdAt.toISOString() };
    await this.redis.set(this.keys.pod(pod.id), JSON.stringify(stored));
  }

  async forgetPod(podId: string): Promise<void> {
    await this.redis.del(this.keys.pod(podId));
  }

  /** Records the pod a session is about to cold-start, before starting it, so a retry finds it. */
  async setSessionPod(sessionId: string, podId: string): Promise<void> {
    await this.redis.set(this.keys.sessionPod(sessionId), podId);
  }

  async sessionPod(sessionId: string): Promise<string | null> {
    return this.redis.get(this.keys.sessionPod(sessionId));
  }

  async clearSessionPod(sessionId: string): Promise<void> {
    await this.redis.del(this.keys.sessionPod(sessionId));
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

  /** Wakes the pool controller (a pod was claimed, a session ended). */
  async signalChange(pool: string): Promise<void> {
    await this.redis.publish(this.keys.poolChangedChannel(), pool);
  }
}
