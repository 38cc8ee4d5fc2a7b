/**
 * Who is connected to each session over CDP, across every proxy replica, in a way a proxy crash
 * cannot corrupt: each proxy counts its own sockets per session under its own id and keeps a
 * heartbeat key alive. A dead proxy's counts stop counting once its heartbeat lapses, and the pool
 * controller sweeps it (`sweepDeadProxies`) so that a session whose last client went with it is
 * released exactly as a clean last disconnect would release it.
 */
import type { Redis } from 'ioredis';
import { withCommands, type VentusRedis } from './commands.ts';
import type { RedisKeys } from './keys.ts';

/** A proxy's heartbeat lives this long; it is renewed every third of it. */
export const PROXY_HEARTBEAT_MS = 10_000;

export class CdpConnections {
  private readonly redis: VentusRedis;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    this.redis = withCommands(redis);
  }

  /** Registers (or renews) a proxy instance as alive. */
  async heartbeat(proxyId: string): Promise<void> {
    await this.redis
      .multi()
      .set(this.keys.proxyAlive(proxyId), '1', 'PX', PROXY_HEARTBEAT_MS)
      .zadd(this.keys.proxies(), 'NX', Date.now(), proxyId)
      .exec();
  }

  /** A proxy that shuts down cleanly (after its clients left) stops counting at once. */
  async retire(proxyId: string): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.proxyAlive(proxyId), this.keys.proxySessions(proxyId))
      .zrem(this.keys.proxies(), proxyId)
      .exec();
  }

  /**
   * One client connected through `proxyId`. Returns how many the session has now through every proxy
   * (a dead proxy's, until swept, included: a cap checked against it can only refuse early).
   */
  async connected(sessionId: string, proxyId: string): Promise<number> {
    const results = await this.redis
      .multi()
      .hincrby(this.keys.cdpConnections(sessionId), proxyId, 1)
      .sadd(this.keys.proxySessions(proxyId), sessionId)
      .hvals(this.keys.cdpConnections(sessionId))
      .exec();
    const counts = (results?.[2]?.[1] ?? []) as string[];
    return counts.reduce((sum, n) => sum + Number(n), 0);
  }

  /** One client left through `proxyId`; returns how many remain connected through live proxies. */
  async disconnected(sessionId: string, proxyId: string): Promise<number> {
    const [, remaining] = await this.leave(sessionId, proxyId, '1');
    return remaining;
  }

  /**
   * Forgets every proxy whose heartbeat lapsed. Returns the sessions whose last connected clients
   * went with them (they had clients there, and no live proxy has any now).
   */
  async sweepDeadProxies(): Promise<string[]> {
    const orphaned: string[] = [];
    for (const proxyId of await this.redis.zrange(this.keys.proxies(), 0, -1)) {
      if (await this.redis.exists(this.keys.proxyAlive(proxyId))) continue;
      for (const sessionId of await this.redis.smembers(this.keys.proxySessions(proxyId))) {
        const [left, remaining] = await this.leave(sessionId, proxyId, 'all');
        if (left > 0 && remaining === 0) orphaned.push(sessionId);
      }
      await this.redis
        .multi()
        .del(this.keys.proxySessions(proxyId))
        .zrem(this.keys.proxies(), proxyId)
        .exec();
    }
    return orphaned;
  }

  private leave(sessionId: string, proxyId: string, count: '1' | 'all'): Promise<[number, number]> {
    return this.redis.cdpLeave(
      this.keys.cdpConnections(sessionId),
      this.keys.proxySessions(proxyId),
      proxyId,
      count,
      this.keys.proxyPrefix(),
      sessionId,
    );
  }
}
