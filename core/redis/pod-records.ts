/**
 * What Redis knows of each pod (its record: pool, endpoints, start time) and which pod each session
 * holds. A warm claim sets the session's pod atomically (warm-pods.ts, claim.lua); a cold start
 * records it here before starting the pod, so a retried provision finds the pod it began.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.ts';
import type { Pod } from '../runtime/driver.ts';

interface StoredPod {
  id: string;
  pool: string;
  cdpUrl: string;
  controlUrl: string;
  createdAt: string;
}

/** A pod's record as Redis stores it (JSON); also what the add-warm script writes. */
export function podRecordJson(pod: Pod): string {
  const stored: StoredPod = { ...pod, createdAt: pod.createdAt.toISOString() };
  return JSON.stringify(stored);
}

export class PodRecords {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async getPod(podId: string): Promise<Pod | undefined> {
    const raw = await this.redis.get(this.keys.pod(podId));
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as StoredPod;
    return { ...stored, createdAt: new Date(stored.createdAt) };
  }

  async recordPod(pod: Pod): Promise<void> {
    await this.redis.set(this.keys.pod(pod.id), podRecordJson(pod));
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
}
