/**
 * The CDP data plane: `/v1/sessions/{id}/cdp?token=<jwt>` upgrades are verified and spliced to the
 * session's pod. Counts clients per session (in Redis, across replicas); the last one leaving a
 * session with keep_alive_seconds = 0 releases it; a session ending closes every socket to it.
 */
import type { IncomingMessage, Server } from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Redis } from 'ioredis';
import { newId } from '../core/domain/ids.ts';
import { forDeployment, problemDocument, type ProblemType } from '../core/domain/problems.ts';
import { PROXY_HEARTBEAT_MS } from '../core/redis/cdp-connections.ts';
import { getSession } from '../core/db/sessions.repository.ts';
import { isTerminal } from '../core/domain/session-states.ts';
import { endSession, type EndSessionDeps } from '../core/lifecycle/end-session.ts';
import type { Services } from '../core/services.ts';
import { isLiveViewPath } from './live-view.proxy.ts';
import { handshakeProblem } from './websocket-handshake.ts';
import { limitDefaults, workspaceLimits } from '../core/db/workspace-settings.repository.ts';
import { refuseUpgrade as refuseSocket, spliceWebSocket } from './socket-splice.ts';
import { KernelRelay, type Splice } from '../runtime-image/agent/kernel.relay.ts';
import { kernelRelayProgram } from '../core/runtime/kernel-relay.program.ts';

const CDP_PATH = /^\/v1\/sessions\/([^/?#]+)\/cdp$/;

export interface CdpProxy {
  /** Open client sockets per session on this replica. */
  openSockets(sessionId: string): number;
  close(): Promise<void>;
}

/** The request's path without its query (which carries the token). */
function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0]!;
}

function bearer(req: IncomingMessage, url: URL): string | undefined {
  const query = url.searchParams.get('token');
  if (query) return query;
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

/**
 * The signing keys and routes to verify and route a connect, the connection counts across replicas,
 * the agents' key, what ending a session needs (the last client left), the log and metrics.
 */
export type CdpProxyDeps = EndSessionDeps &
  Pick<Services, 'agentAccess' | 'cdpConnections' | 'config' | 'log' | 'metrics' | 'tokens'>;

/** The proxy's kernel relay, unless it is turned off or its program cannot be had (then: Node). */
async function startKernelRelay(services: CdpProxyDeps): Promise<KernelRelay | undefined> {
  const log = services.log.child({ component: 'proxy' });
  if (!services.config.kernelRelay) return undefined;
  const bundleDir = path.join(services.config.dataDir, 'bundles');
  const program = await kernelRelayProgram(bundleDir, (reason) =>
    log.warn(`CDP bytes are relayed in the proxy's process, not in the kernel: ${reason}`),
  );
  // An empty environment: the relay needs none of the proxy's settings or secrets.
  return program ? new KernelRelay(program, log, {}).start() : undefined;
}

export async function attachCdpProxy(
  server: Server,
  services: CdpProxyDeps,
  subscriber: Redis,
): Promise<CdpProxy> {
  const log = services.log.child({ component: 'proxy' });
  const { metrics } = services;
  const bytes = {
    client_to_pod: metrics.cdpBytes.labels('client_to_pod'),
    pod_to_client: metrics.cdpBytes.labels('pod_to_client'),
  };
  const refuseUpgrade = (socket: Duplex, type: ProblemType, detail: string, instance: string) => {
    const doc = forDeployment(problemDocument(type, { detail, instance }), services.config.publicUrl);
    metrics.cdpRefused.inc({ status: String(doc.status) });
    refuseSocket(socket, doc);
  };
  const live = new Map<string, Set<Splice>>();
  const kernelRelay = await startKernelRelay(services);
  /** Disconnect handling still in flight; close() waits for it before the clients go away. */
  const pending = new Set<Promise<void>>();

  // This instance's connections count only while its heartbeat lives (see CdpConnections).
  const proxyId = newId();
  await services.cdpConnections.heartbeat(proxyId);
  const heartbeat = setInterval(() => {
    services.cdpConnections
      .heartbeat(proxyId)
      .catch((err: unknown) => log.warn({ err }, 'proxy heartbeat failed'));
  }, PROXY_HEARTBEAT_MS / 3);
  heartbeat.unref();

  await services.sessionRoutes.subscribeEnded(subscriber, (sessionId) => {
    for (const splice of live.get(sessionId) ?? []) splice.destroy();
  });

  async function onClosed(sessionId: string, keepAliveSeconds: number): Promise<void> {
    const remaining = await services.cdpConnections.disconnected(sessionId, proxyId);
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
    // `instance` is the path alone: the query holds the token.
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://proxy');
    } catch {
      // `//` and the like are no URL on this host; they threw into the 503 path before.
      return refuseUpgrade(socket, 'not-found', 'No WebSocket endpoint at this path', pathOf(req));
    }
    const instance = url.pathname;
    const match = CDP_PATH.exec(url.pathname);
    if (!match) return refuseUpgrade(socket, 'not-found', 'No WebSocket endpoint at this path', instance);
    const malformed = handshakeProblem(req);
    if (malformed) return refuseUpgrade(socket, 'validation-error', malformed, instance);
    let sessionId: string;
    try {
      sessionId = decodeURIComponent(match[1]!);
    } catch {
      // A malformed escape (`%E0%A4%A`) names no session; it threw into the 503 path before.
      return refuseUpgrade(socket, 'not-found', 'Session not found', instance);
    }
    const token = bearer(req, url);
    if (!token) return refuseUpgrade(socket, 'unauthorized', 'The connect_url token is missing', instance);
    let claims;
    try {
      claims = await services.tokens.verify(token, 'cdp');
    } catch {
      return refuseUpgrade(socket, 'unauthorized', 'The connect_url token is invalid', instance);
    }
    // A token is for one session: replaying it against another session's path is refused.
    if (claims.sessionId !== sessionId)
      return refuseUpgrade(socket, 'unauthorized', 'The token is not valid for this session', instance);
    // The token names the workspace: its limits are read while the route is looked up, and the
    // connection is counted meanwhile too, not after (0.3 ms less per open, load-tests/proxy-floor.ts
    // with the proxy's timings; docs/performance.md, eleventh pass). The workspace's cap of CDP
    // sockets per session holds across replicas because each connect is counted first and checked
    // after, so racing connects can only be refused early, never let past it.
    const limitsRead = workspaceLimits(services.db, claims.workspaceId, limitDefaults(services.config));
    limitsRead.catch(() => {}); // a refused connect does not look at them
    const counted = services.cdpConnections.connected(sessionId, proxyId);
    counted.catch(() => {}); // awaited below, or undone on a refusal
    // Not connected after all: the count goes (a refused connect leaves no trace in Redis).
    const uncount = () =>
      counted.then(
        () => services.cdpConnections.disconnected(sessionId, proxyId),
        () => undefined,
      );
    const route = await services.sessionRoutes.get(sessionId).catch(async (err: unknown) => {
      await uncount().catch(() => undefined);
      throw err;
    });
    if (!route || route.workspaceId !== claims.workspaceId) {
      await uncount();
      const session = await getSession(services.db, sessionId);
      if (!session || session.workspaceId !== claims.workspaceId)
        return refuseUpgrade(socket, 'not-found', 'Session not found', instance);
      if (isTerminal(session.status))
        return refuseUpgrade(socket, 'session-ended', `Session ended (${session.status})`, instance);
      return refuseUpgrade(
        socket,
        'state-conflict',
        `Session is ${session.status}; connect once it is RUNNING`,
        instance,
      );
    }
    const [limits, open] = await Promise.all([limitsRead, counted]);
    if (open > limits.cdpSocketsPerSession) {
      await services.cdpConnections.disconnected(sessionId, proxyId);
      return refuseUpgrade(
        socket,
        'connection-limit-reached',
        `This session already has ${limits.cdpSocketsPerSession} CDP connections, its workspace's limit; close one and retry`,
        instance,
      );
    }
    const splice = spliceWebSocket(
      req,
      socket,
      head,
      { url: route.cdpUrl, headers: services.agentAccess.headers(route.podId) },
      (direction, n) => bytes[direction].inc(n),
      kernelRelay,
    );
    metrics.cdpConnections.inc();
    metrics.cdpConnectionsTotal.inc();
    const set = live.get(sessionId) ?? new Set<Splice>();
    set.add(splice);
    live.set(sessionId, set);
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
      refuseUpgrade(socket, 'service-unavailable', 'The proxy could not route this connection', pathOf(req));
    });
  };
  server.on('upgrade', listener);

  return {
    openSockets: (sessionId) => live.get(sessionId)?.size ?? 0,
    async close() {
      server.off('upgrade', listener);
      for (const set of live.values()) for (const splice of set) splice.destroy();
      await Promise.all(pending);
      kernelRelay?.close();
      clearInterval(heartbeat);
      await services.cdpConnections.retire(proxyId).catch(() => {});
      await subscriber.unsubscribe().catch(() => {});
    },
  };
}
