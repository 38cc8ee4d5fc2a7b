/**
 * The CDP data plane: `/v1/sessions/{id}/cdp?token=<jwt>` upgrades are verified and spliced to the
 * session's pod. Counts clients per session (in Redis, across replicas); the last one leaving a
 * session with keep_alive_seconds = 0 releases it; a session ending closes every socket to it.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Redis } from 'ioredis';
import { newId } from '../core/domain/ids.ts';
import { PROXY_HEARTBEAT_MS } from '../core/redis/cdp-connections.ts';
import { getSession } from '../core/db/sessions.repository.ts';
import { isTerminal } from '../core/domain/session-states.ts';
import { endSession } from '../core/lifecycle/end-session.ts';
import type { Services } from '../core/services.ts';
import { isLiveViewPath } from './live-view.proxy.ts';
import { handshakeProblem } from './websocket-handshake.ts';
import { refuseUpgrade as refuseSocket, spliceWebSocket, type Splice } from './socket-splice.ts';

const CDP_PATH = /^\/v1\/sessions\/([^/?#]+)\/cdp$/;

export interface CdpProxy {
  /** Open client sockets per session on this replica. */
  openSockets(sessionId: string): number;
  close(): Promise<void>;
}

function bearer(req: IncomingMessage, url: URL): string | undefined {
  const query = url.searchParams.get('token');
  if (query) return query;
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

export async function attachCdpProxy(
  server: Server,
  services: Services,
  subscriber: Redis,
): Promise<CdpProxy> {
  const log = services.log.child({ component: 'proxy' });
  const { metrics } = services;
  const bytes = {
    client_to_pod: metrics.cdpBytes.labels('client_to_pod'),
    pod_to_client: metrics.cdpBytes.labels('pod_to_client'),
  };
  const refuseUpgrade = (socket: Duplex, status: number, message: string) => {
    metrics.cdpRefused.inc({ status: String(status) });
    refuseSocket(socket, status, message);
  };
  const live = new Map<string, Set<Splice>>();
  /** Disconnect handling still in flight; close() waits for it before the clients go away. */
  const pending = new Set<Promise<void>>();

  // This instance's connections count only while its heartbeat lives (see CdpConnections).
  const proxyId = newId();
  await services.connections.heartbeat(proxyId);
  const heartbeat = setInterval(() => {
    services.connections
      .heartbeat(proxyId)
      .catch((err: unknown) => log.warn({ err }, 'proxy heartbeat failed'));
  }, PROXY_HEARTBEAT_MS / 3);
  heartbeat.unref();

  await services.routes.subscribeEnded(subscriber, (sessionId) => {
    for (const splice of live.get(sessionId) ?? []) splice.destroy();
  });

  async function onClosed(sessionId: string, keepAliveSeconds: number): Promise<void> {
    const remaining = await services.connections.disconnected(sessionId, proxyId);
    if (remaining > 0 || keepAliveSeconds > 0) return;
    const ended = await endSession(services, {
      sessionId,
      reason: 'cdp_disconnect',
      actor: 'proxy',
      auditClass: 'system',
    });
    if (ended) log.info({ sessionId }, 'last CDP client left; session released');
  }

  async function handle(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://proxy');
    } catch {
      // `//` and the like are no URL on this host; they threw into the 503 path before.
      return refuseUpgrade(socket, 404, 'No WebSocket endpoint at this path');
    }
    const match = CDP_PATH.exec(url.pathname);
    if (!match) return refuseUpgrade(socket, 404, 'No WebSocket endpoint at this path');
    const malformed = handshakeProblem(req);
    if (malformed) return refuseUpgrade(socket, 400, malformed);
    let sessionId: string;
    try {
      sessionId = decodeURIComponent(match[1]!);
    } catch {
      // A malformed escape (`%E0%A4%A`) names no session; it threw into the 503 path before.
      return refuseUpgrade(socket, 404, 'Session not found');
    }
    const token = bearer(req, url);
    if (!token) return refuseUpgrade(socket, 401, 'The connect_url token is missing');
    let claims;
    try {
      claims = await services.tokens.verify(token, 'cdp');
    } catch {
      return refuseUpgrade(socket, 401, 'The connect_url token is invalid');
    }
    // A token is for one session: replaying it against another session's path is refused.
    if (claims.sessionId !== sessionId)
      return refuseUpgrade(socket, 401, 'The token is not valid for this session');
    const route = await services.routes.get(sessionId);
    if (!route || route.workspaceId !== claims.workspaceId) {
      const session = await getSession(services.db, sessionId);
      if (!session || session.workspaceId !== claims.workspaceId)
        return refuseUpgrade(socket, 404, 'Session not found');
      if (isTerminal(session.status)) return refuseUpgrade(socket, 410, `Session ended (${session.status})`);
      return refuseUpgrade(socket, 409, `Session is ${session.status}; connect once it is RUNNING`);
    }
    const splice = spliceWebSocket(req, socket, head, route.cdpUrl, (direction, n) =>
      bytes[direction].inc(n),
    );
    metrics.cdpConnections.inc();
    metrics.cdpConnectionsTotal.inc();
    const set = live.get(sessionId) ?? new Set<Splice>();
    set.add(splice);
    live.set(sessionId, set);
    await services.connections.connected(sessionId, proxyId);
    const handled = splice.closed.then(async () => {
      metrics.cdpConnections.dec();
      set.delete(splice);
      if (set.size === 0) live.delete(sessionId);
      await onClosed(sessionId, route.keepAliveSeconds).catch((err: unknown) =>
        log.error({ err, sessionId }, 'failed to handle CDP disconnect'),
      );
    });
    pending.add(handled);
    void handled.finally(() => pending.delete(handled));
  }

  const listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (isLiveViewPath(req.url)) return; // live-view.proxy.ts answers these
    socket.on('error', () => socket.destroy());
    handle(req, socket, head).catch((err: unknown) => {
      log.error({ err }, 'upgrade failed');
      refuseUpgrade(socket, 503, 'The proxy could not route this connection');
    });
  };
  server.on('upgrade', listener);

  return {
    openSockets: (sessionId) => live.get(sessionId)?.size ?? 0,
    async close() {
      server.off('upgrade', listener);
      for (const set of live.values()) for (const splice of set) splice.destroy();
      await Promise.all(pending);
      clearInterval(heartbeat);
      await services.connections.retire(proxyId).catch(() => {});
      await subscriber.unsubscribe().catch(() => {});
    },
  };
}
