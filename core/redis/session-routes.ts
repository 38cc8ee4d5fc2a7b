/** What the proxy needs in Redis: where each running session's CDP endpoint is, and who is connected. */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.ts';
import { LIVE_VIEW_TOKEN_SECONDS } from '../security/cdp-token.ts';
import { subscribeWhenReady } from './subscribe.ts';

export interface SessionRoute {
  sessionId: string;
  workspaceId: string;
  /** The pod serving the session: its agent's secret is derived from this id. */
  podId: string;
  cdpUrl: string;
  /** The pod agent's HTTP base (runtime-image/agent/protocol.ts). */
  controlUrl: string;
  keepAliveSeconds: number;
}

/** The route of a session served by a pod. */
export function routeOf(
  session: { id: string; workspaceId: string; keepAliveSeconds: number },
  pod: { id: string; cdpUrl: string; controlUrl: string },
): SessionRoute {
  return {
    sessionId: session.id,
    workspaceId: session.workspaceId,
    podId: pod.id,
    cdpUrl: pod.cdpUrl,
    controlUrl: pod.controlUrl,
    keepAliveSeconds: session.keepAliveSeconds,
  };
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

  /**
   * The session's route goes, then every proxy and waiting client hears that it ended: one round
   * trip, in that order (a proxy told to close looks the route up no more).
   */
  async end(sessionId: string): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.route(sessionId), this.keys.cdpConnections(sessionId))
      .publish(this.keys.sessionEndedChannel(), sessionId)
      .exec();
  }

  async announceRunning(sessionId: string): Promise<void> {
    await this.redis.publish(this.keys.sessionRunningChannel(), sessionId);
  }

  /**
   * Calls `onSettled` for every session that became RUNNING or ended (the answers a waiting client
   * wants). Needs a dedicated connection (subscriber mode).
   */
  async subscribeSettled(subscriber: Redis, onSettled: (sessionId: string) => void): Promise<void> {
    const channels = [this.keys.sessionRunningChannel(), this.keys.sessionEndedChannel()];
    subscriber.on('message', (ch: string, message: string) => {
      if (channels.includes(ch)) onSettled(message);
    });
    await subscribeWhenReady(subscriber, ...channels);
  }

  /** Calls `onEnded` for every ended session. Needs a dedicated connection (subscriber mode). */
  async subscribeEnded(subscriber: Redis, onEnded: (sessionId: string) => void): Promise<void> {
    const channel = this.keys.sessionEndedChannel();
    subscriber.on('message', (ch: string, message: string) => {
      if (ch === channel) onEnded(message);
    });
    await subscribeWhenReady(subscriber, channel);
  }

  /**
   * Revokes every live-view link of the session handed out until now (they stop opening viewers) and
   * tells every proxy to close the session's viewers. Links made afterwards work.
   */
  async revokeLiveView(sessionId: string, nowMs = Date.now()): Promise<void> {
    await this.redis
      .multi()
      // A link opens a viewer for LIVE_VIEW_TOKEN_SECONDS: the mark is needed no longer than that.
      .set(this.keys.liveViewRevokedAt(sessionId), String(nowMs), 'PX', 2 * LIVE_VIEW_TOKEN_SECONDS * 1000)
      .publish(this.keys.liveViewRevokedChannel(), sessionId)
      .exec();
  }

  /** When the session's live-view links were last revoked (ms), if within a link's lifetime. */
  async liveViewRevokedAt(sessionId: string): Promise<number | undefined> {
    const at = await this.redis.get(this.keys.liveViewRevokedAt(sessionId));
    return at === null ? undefined : Number(at);
  }

  /** Calls `onRevoked` for every revocation. Needs a dedicated connection (subscriber mode). */
  async subscribeLiveViewRevoked(subscriber: Redis, onRevoked: (sessionId: string) => void): Promise<void> {
    const channel = this.keys.liveViewRevokedChannel();
    subscriber.on('message', (ch: string, message: string) => {
      if (ch === channel) onRevoked(message);
    });
    await subscribeWhenReady(subscriber, channel);
  }
}
