/**
 * The in-flight marker of a create under an Idempotency-Key: while one request with a key runs, its
 * duplicates wait for it (and then replay its session) instead of racing it for a slot. A marker holds
 * its request's token and expires by itself, so a request that crashed blocks its key for `ttlMs` at
 * most; only the request that set a marker deletes it.
 */
import type { Redis } from 'ioredis';
import { withCommands, type VentusRedis } from './commands.ts';
import type { RedisKeys } from './keys.ts';

export class IdempotencyMarkers {
  private readonly redis: VentusRedis;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    this.redis = withCommands(redis);
  }

  /** Marks the key in flight for `ttlMs` unless a request already holds it; true when this one does. */
  async claim(workspaceId: string, idempotencyKey: string, token: string, ttlMs: number): Promise<boolean> {
    const marker = this.keys.idempotencyInFlight(workspaceId, idempotencyKey);
    return (await this.redis.set(marker, token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** Whether some request holds the key now. */
  async held(workspaceId: string, idempotencyKey: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.idempotencyInFlight(workspaceId, idempotencyKey))) === 1;
  }

  /** Deletes the marker if it is still this request's (compare-and-delete). */
  async release(workspaceId: string, idempotencyKey: string, token: string): Promise<void> {
    await this.redis.releaseMarker(this.keys.idempotencyInFlight(workspaceId, idempotencyKey), token);
  }
}
