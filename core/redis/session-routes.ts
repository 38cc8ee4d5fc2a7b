/** What the proxy needs in Redis: where each running session's CDP endpoint is, and who is connected. */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.ts';

export interface SessionRoute {
  sessionId: string;
  workspaceId: string;
  cdpUrl: string;
  keepAliveSeconds: number;
}

export class SessionRoutes {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async publish(route: SessionRoute): Promise<void> {
    await this.redis.set(this.keys.route(route.sessionId), JSON.stringify(route));
  }

  async get(sessionId: string): Promise<SessionRoute | undefined> {
    const raw = await this.redis.get(this.keys.route(sessionId));
    return raw ? (JSON.parse(raw) as SessionRoute) : undefined;
  }

  async delete(sessionId: string): Promise<void> {
    await this.redis.del(this.keys.route(sessionId), this.keys.cdpConnections(sessionId));
  }

  async announceEnded(sessionId: string): Promise<void> {
    await this.redis.publish(this.keys.sessionEndedChannel(), sessionId);
  }

  /** Calls `onEnded` for every ended session. Needs a dedicated connection (subscriber mode). */
  async subscribeEnded(subscriber: Redis, onEnded: (sessionId: string) => void): Promise<void> {
    const channel = this.keys.sessionEndedChannel();
    subscriber.on('message', (ch: string, message: string) => {
      if (ch === channel) onEnded(message);
    });
    await subscriber.subscribe(channel);
  }
}
