/**
 * The live view data plane: `GET /v/{id}?token=<viewer JWT>` (the noVNC viewer page, its script and
 * noVNC's modules), `GET /v/{id}/status` (why a viewer is not live), and the VNC WebSocket
 * `/v/{id}/websockify?token=`, routed to the session's pod like CDP (services.sessionRoutes) and relayed to
 * the pod agent's `/vnc`.
 *
 * Unlike the CDP splice, this relay terminates both WebSockets: read-only is enforced here, by parsing
 * the viewer's RFB stream (rfb-input.filter.ts) and dropping keyboard, pointer and clipboard messages,
 * so a modified page or a hand-written client cannot type into a session it may only watch.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Redis } from 'ioredis';
import WebSocket, { WebSocketServer } from 'ws';
import { forDeployment, problemDocument, type ProblemType } from '../core/domain/problems.ts';
import { podLiveView } from '../core/runtime/pod-control.client.ts';
import { agentWebSocket } from '../core/runtime/agent.client.ts';
import type { Services } from '../core/services.ts';
import { agentOf, checkViewer, type Access, type ViewerAccessDeps } from './live-view.access.ts';
import { limitDefaults, workspaceLimits } from '../core/db/workspace-settings.repository.ts';
import { RFB_CLIENT_MAX_MESSAGE, RFB_SERVER_MAX_MESSAGE } from '../core/domain/rfb-messages.ts';
import {
  ASSETS_PREFIX,
  NOVNC_PREFIX,
  PAGE_HEADERS,
  VIEWER_SCRIPT,
  readNoVncModule,
  viewerPage,
} from './live-view.page.ts';
import { RfbInputFilter } from './rfb-input.filter.ts';
import { refuseUpgrade } from './socket-splice.ts';

const PAGE_PATH = /^\/v\/([0-9A-Za-z]{1,64})\/?$/;
const STATUS_PATH = /^\/v\/([0-9A-Za-z]{1,64})\/status$/;
const SOCKET_PATH = /^\/v\/([0-9A-Za-z]{1,64})\/websockify$/;
const UPSTREAM_TIMEOUT_MS = 10_000;
/** Close code the viewer sees when its session ends (4000–4999: application codes). */
export const SESSION_ENDED_CLOSE = 4000;
/** Close code when the session's links were revoked (POST /v1/sessions/{id}/live-view:revoke). */
export const LINK_REVOKED_CLOSE = 4001;
/** Close code when the link the viewer opened with expires. */
export const LINK_EXPIRED_CLOSE = 4002;
// A slow viewer must not make the proxy buffer a desktop's worth of frames.
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

/** Whether a request path belongs to the live view (the CDP upgrade handler leaves these alone). */
export function isLiveViewPath(url: string | undefined): boolean {
  return (url ?? '').startsWith('/v/');
}

export interface LiveViewProxy {
  /** The HTTP handler for `GET /v/...`; answers every request it is given. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** Open viewer connections to a session on this replica. */
  openViewers(sessionId: string): number;
  close(): Promise<void>;
}

interface Viewer {
  client: WebSocket;
  upstream: WebSocket;
}

/** The request URL, or undefined when it is none (`//x` and the like): answered 404, never a 5xx. */
function parseUrl(raw: string | undefined): URL | undefined {
  try {
    return new URL(raw ?? '/', 'http://proxy');
  } catch {
    return undefined;
  }
}

const wantsHtml = (req: IncomingMessage): boolean =>
  (req.headers.accept ?? 'text/html').includes('text/html');

interface Upstream {
  ws: WebSocket;
  /**
   * What the pod sent before the viewer's socket was ready. The server speaks first in RFB (its
   * ProtocolVersion), often in the same TCP segment as the 101: without this it would be emitted
   * before anyone listens, and the viewer would wait for it forever.
   */
  early: Buffer[];
}

/** Opens the pod's VNC WebSocket; resolves with it, or with the HTTP status to refuse the viewer with. */
function openUpstream(target: {
  url: string;
  headers: Record<string, string>;
}): Promise<Upstream | { status: number; problem: ProblemType }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(target.url, {
      perMessageDeflate: false,
      maxPayload: RFB_SERVER_MAX_MESSAGE,
      handshakeTimeout: UPSTREAM_TIMEOUT_MS,
      headers: target.headers,
    });
    const early: Buffer[] = [];
    const buffer = (data: Buffer) => early.push(data);
    ws.on('message', buffer);
    ws.once('open', () => resolve({ ws, early }));
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      // 404: the pod has no live view (the sim runtime); anything else: the pod is not serving it.
      resolve(
        res.statusCode === 404
          ? { status: 409, problem: 'live-view-unavailable' }
          : { status: 502, problem: 'service-unavailable' },
      );
    });
    ws.once('error', () => resolve({ status: 502, problem: 'service-unavailable' }));
  });
}

/** What checking a viewer needs, the agents' key to reach their VNC, the config, log and metrics. */
export type LiveViewProxyDeps = ViewerAccessDeps &
  Pick<Services, 'agentAccess' | 'config' | 'log' | 'metrics'>;

export async function attachLiveViewProxy(
  server: Server,
  services: LiveViewProxyDeps,
  subscriber: Redis,
): Promise<LiveViewProxy> {
  const log = services.log.child({ component: 'live-view' });
  const { metrics } = services;
  // A viewer sends small RFB messages: anything larger closes its socket (1009) before it is buffered.
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: RFB_CLIENT_MAX_MESSAGE,
  });
  const live = new Map<string, Set<Viewer>>();
  /** Viewers past the access check whose pod connection is still opening (they count towards the cap). */
  const opening = new Map<string, number>();

  function sendProblem(res: ServerResponse, type: ProblemType, detail: string, instance: string): void {
    const doc = forDeployment(problemDocument(type, { detail, instance }), services.config.publicUrl);
    res.writeHead(doc.status, { 'content-type': 'application/problem+json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(doc));
  }

  const closeViewers = (sessionId: string, code: number, reason: string) => {
    for (const viewer of live.get(sessionId) ?? []) {
      viewer.client.close(code, reason);
      viewer.upstream.terminate();
    }
  };
  await services.sessionRoutes.subscribeEnded(subscriber, (sessionId) =>
    closeViewers(sessionId, SESSION_ENDED_CLOSE, 'session ended'),
  );
  await services.sessionRoutes.subscribeLiveViewRevoked(subscriber, (sessionId) =>
    closeViewers(sessionId, LINK_REVOKED_CLOSE, 'link revoked'),
  );

  function relay(
    sessionId: string,
    client: WebSocket,
    pod: Upstream,
    claims: { interactive: boolean; expiresAt: Date },
  ): void {
    const readOnly = !claims.interactive;
    const upstream = pod.ws;
    upstream.removeAllListeners('message');
    const filter = new RfbInputFilter(readOnly);
    const viewer = { client, upstream };
    metrics.liveViewers.inc();
    let counted = 0;
    const set = live.get(sessionId) ?? new Set<Viewer>();
    set.add(viewer);
    live.set(sessionId, set);
    client.on('message', (data: Buffer) => {
      let out: Buffer;
      try {
        out = filter.push(data);
      } catch (err) {
        log.info({ sessionId, err }, 'live view: viewer sent a stream it may not; closed');
        client.close(1008, 'not allowed');
        upstream.terminate();
        return;
      }
      if (filter.dropped > counted) {
        metrics.liveViewInputDropped.inc(filter.dropped - counted);
        counted = filter.dropped;
      }
      if (out.length > 0 && upstream.readyState === WebSocket.OPEN) upstream.send(out);
    });
    const toViewer = (data: Buffer): void => {
      if (client.readyState !== WebSocket.OPEN) return;
      client.send(data, { binary: true }, () => {
        if (upstream.isPaused && client.bufferedAmount < LOW_WATER) upstream.resume();
      });
      if (client.bufferedAmount > HIGH_WATER) upstream.pause();
    };
    for (const data of pod.early.splice(0)) toViewer(data);
    upstream.on('message', toViewer);
    let ended = false;
    // A viewer lasts no longer than the link it opened with: a new link (the API) to keep watching.
    const expiry = setTimeout(
      () => {
        client.close(LINK_EXPIRED_CLOSE, 'link expired');
        upstream.terminate();
      },
      Math.max(0, claims.expiresAt.getTime() - Date.now()),
    );
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearTimeout(expiry);
      metrics.liveViewers.dec();
      set.delete(viewer);
      if (set.size === 0) live.delete(sessionId);
      upstream.terminate();
      // CLOSING: a close frame (session ended, not allowed) is on its way; let the viewer read it.
      if (client.readyState === WebSocket.OPEN) client.close(1001, 'desktop closed');
      else if (client.readyState !== WebSocket.CLOSING) client.terminate();
      log.debug({ sessionId, dropped: filter.dropped }, 'live view: viewer left');
    };
    for (const ws of [client, upstream]) {
      ws.once('close', end);
      ws.once('error', end);
    }
    // The pod may have hung up while the viewer's upgrade completed: its 'close' has been and gone.
    if (upstream.readyState !== WebSocket.OPEN) end();
  }

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = parseUrl(req.url);
    const match = url && SOCKET_PATH.exec(url.pathname);
    if (!match) {
      const path = url?.pathname ?? (req.url ?? '/').split('?')[0]!;
      return refuse(socket, 404, 'not-found', 'No WebSocket endpoint at this path', path);
    }
    const sessionId = match[1]!;
    const access = await checkViewer(services, sessionId, url.searchParams.get('token'));
    if (!access.ok) return refuse(socket, access.status, access.problem, access.detail, url.pathname);
    const limits = await workspaceLimits(
      services.db,
      access.route.workspaceId,
      limitDefaults(services.config),
    );
    // Checked and reserved with no await in between: racing viewers on this replica cannot pass the cap.
    const watching = (live.get(sessionId)?.size ?? 0) + (opening.get(sessionId) ?? 0);
    if (watching >= limits.viewersPerSession) {
      const detail = `This session already has ${limits.viewersPerSession} viewers, its workspace's limit`;
      return refuse(socket, 429, 'connection-limit-reached', detail, url.pathname);
    }
    opening.set(sessionId, (opening.get(sessionId) ?? 0) + 1);
    try {
      await connectViewer(req, socket, head, sessionId, access, url.pathname);
    } finally {
      const left = (opening.get(sessionId) ?? 1) - 1;
      if (left > 0) opening.set(sessionId, left);
      else opening.delete(sessionId);
    }
  }

  async function connectViewer(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    sessionId: string,
    access: Access & { ok: true },
    path: string,
  ): Promise<void> {
    const upstream = await openUpstream(agentWebSocket(services.agentAccess, agentOf(access.route), '/vnc'));
    if (!('ws' in upstream)) {
      const detail =
        upstream.problem === 'live-view-unavailable'
          ? "This session's browser runtime has no live view"
          : "The session's desktop cannot be reached; retry";
      return refuse(socket, upstream.status, upstream.problem, detail, path);
    }
    if (!socket.writable) {
      upstream.ws.terminate();
      return;
    }
    await new Promise<void>((resolve) => {
      wss.handleUpgrade(req, socket, head, (client) => {
        log.info({ sessionId, interactive: access.claims.interactive }, 'live view: viewer connected');
        relay(sessionId, client, upstream, access.claims);
        resolve();
      });
      // A socket that closes mid-handshake never reaches the callback.
      socket.once('close', () => resolve());
    });
  }

  function refuse(socket: Duplex, status: number, type: ProblemType, detail: string, instance: string) {
    metrics.liveViewRefused.inc({ status: String(status) });
    // A pod that cannot be reached answers 502 (a gateway's own status) with the service-unavailable type.
    const doc = { ...problemDocument(type, { detail, instance }), status };
    refuseUpgrade(socket, forDeployment(doc, services.config.publicUrl));
  }

  async function page(req: IncomingMessage, res: ServerResponse, sessionId: string, token: string | null) {
    const access = await checkViewer(services, sessionId, token);
    let body: { status: number; html: string; type: ProblemType; detail: string } | undefined;
    if (!access.ok) {
      const html = viewerPage({ sessionId, state: access.state, interactive: false, detail: access.detail });
      body = { status: access.status, html, type: access.problem, detail: access.detail };
    } else if (!(await podLiveView(services.agentAccess, agentOf(access.route))).available) {
      const detail = "This session's browser runtime has no live view";
      const html = viewerPage({ sessionId, state: 'unavailable', interactive: false, detail });
      body = { status: 409, html, type: 'live-view-unavailable', detail };
    }
    if (body) metrics.liveViewRefused.inc({ status: String(body.status) });
    if (body && !wantsHtml(req)) return sendProblem(res, body.type, body.detail, `/v/${sessionId}`);
    if (body) return void res.writeHead(body.status, PAGE_HEADERS).end(body.html);
    const interactive = access.ok && access.claims.interactive;
    res.writeHead(200, PAGE_HEADERS).end(viewerPage({ sessionId, state: 'connecting', interactive }));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = parseUrl(req.url);
    if (!url) return sendProblem(res, 'not-found', 'No live view resource at this path', '/v/');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendProblem(res, 'method-not-allowed', 'The live view answers GET only', path);
    }
    if (path === `${ASSETS_PREFIX}viewer.js`) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' });
      return void res.end(VIEWER_SCRIPT);
    }
    if (path.startsWith(NOVNC_PREFIX)) {
      const module = await readNoVncModule(path.slice(NOVNC_PREFIX.length));
      if (!module) return sendProblem(res, 'not-found', 'No such viewer module', path);
      res.writeHead(200, {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'max-age=3600',
      });
      return void res.end(module);
    }
    const token = url.searchParams.get('token');
    const pageMatch = PAGE_PATH.exec(path);
    if (pageMatch) return page(req, res, pageMatch[1]!, token);
    const statusMatch = STATUS_PATH.exec(path);
    if (statusMatch) {
      const access = await checkViewer(services, statusMatch[1]!, token, { explainOnly: true });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return void res.end(JSON.stringify({ state: access.ok ? 'live' : access.state }));
    }
    return sendProblem(res, 'not-found', 'No live view resource at this path', path);
  }

  const listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!isLiveViewPath(req.url)) return; // the CDP proxy's
    socket.on('error', () => socket.destroy());
    handleUpgrade(req, socket, head).catch((err: unknown) => {
      log.error({ err }, 'live view upgrade failed');
      refuse(socket, 503, 'service-unavailable', 'The proxy could not route this connection', '/v/');
    });
  };
  server.on('upgrade', listener);

  return {
    handleRequest(req, res) {
      handle(req, res).catch((err: unknown) => {
        log.error({ err }, 'live view request failed');
        if (!res.headersSent) sendProblem(res, 'internal-error', 'The live view failed', '/v/');
        else res.destroy();
      });
    },
    openViewers: (sessionId) => live.get(sessionId)?.size ?? 0,
    async close() {
      server.off('upgrade', listener);
      for (const set of live.values())
        for (const viewer of set) {
          viewer.client.terminate();
          viewer.upstream.terminate();
        }
      wss.close();
      await subscriber.unsubscribe().catch(() => {});
    },
  };
}
