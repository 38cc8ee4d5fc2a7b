/**
 * Each simulated pod's own surface, under `/pods/<id>/` on the one shared port: what the local pod
 * agent serves on its own port (health, /json/version, POST /session, the CDP WebSocket), answered
 * by the pod's SimulatedBrowser, and shaped by the pod's state (starting, stalled, killed).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseSessionConfig } from '../../runtime-image/agent/agent.server.ts';
import { pathOf, readBody, rejectUpgrade, sendJson } from './http.util.ts';
import type { SimPod, SimPodRegistry } from './sim-pod.registry.ts';
import { podBrowserPath } from '../../core/runtime/sim/sim.protocol.ts';

const POD_HTTP = /^\/pods\/([^/]+)(\/.*)?$/;
const BROWSER_WS = /^\/pods\/([^/]+)\/devtools\/browser(?:\/[^/]*)?$/;
const PAGE_WS = /^\/pods\/([^/]+)\/devtools\/page\/([A-Za-z0-9_-]+)$/;
// As much as the local relay carries: a full-page screenshot is tens of MiB.
const MAX_MESSAGE = 256 * 1024 * 1024;

/** Whether the pod may answer now; if not, the refusal (or, stalled, the hang) is already arranged. */
type Gate =
  { ok: true; pod: SimPod } | { ok: false; status: number; text: string } | { ok: false; held: true };

function gate(
  pod: SimPod | undefined,
  held: { destroy(): void; once(e: 'close', f: () => void): unknown },
): Gate {
  if (!pod) return { ok: false, status: 404, text: 'Not Found' };
  switch (pod.record.state) {
    case 'ready':
      return { ok: true, pod };
    case 'starting':
      return { ok: false, status: 503, text: 'Service Unavailable' };
    case 'killed':
      return { ok: false, status: 502, text: 'Bad Gateway' };
    case 'stalled':
      pod.held.add(held);
      held.once('close', () => pod.held.delete(held));
      return { ok: false, held: true };
  }
}

export class PodRoutes {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE,
    perMessageDeflate: false,
  });

  constructor(
    private readonly registry: SimPodRegistry,
    private readonly onActivity: () => void,
  ) {}

  /** True when the path is a pod's (answered here), false when it is not. */
  async handleHttp(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const match = POD_HTTP.exec(path);
    if (!match) return false;
    const id = match[1] ?? ''; // pod ids are URL-safe as they are (pod.store.ts)
    const sub = (match[2] ?? '/').replace(/\/+$/, '') || '/';
    const g = gate(this.registry.get(id), res);
    if (!g.ok) {
      if ('status' in g) sendJson(res, g.status, { error: `pod ${id}: ${g.text}` });
      return true;
    }
    const { browser } = g.pod;
    const host = req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`;
    if (req.method === 'GET' && sub === '/healthz') sendJson(res, 200, { ok: true });
    else if (req.method === 'GET' && sub === '/json/version')
      sendJson(res, 200, browser.version(`ws://${host}${podBrowserPath(id)}`));
    else if (req.method === 'GET' && (sub === '/json' || sub === '/json/list'))
      sendJson(
        res,
        200,
        browser.pages().map((t) => ({
          id: t.targetId,
          type: t.type,
          title: t.title,
          url: t.url,
          webSocketDebuggerUrl: `ws://${host}/pods/${id}/devtools/page/${t.targetId}`,
        })),
      );
    else if (req.method === 'POST' && sub === '/session') {
      const config = parseSessionConfig(await readBody(req));
      if (typeof config === 'string') sendJson(res, 400, { error: config });
      else {
        const restored = browser.configure(config);
        if (restored) sendJson(res, 200, { restored });
        else sendJson(res, 204);
      }
    } else if (req.method === 'GET' && sub === '/storage-state') sendJson(res, 200, browser.storageState());
    else sendJson(res, 404, { error: 'not found' });
    return true;
  }

  /** The http server's 'upgrade' handler. Never throws: refusals answer with a status line. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = pathOf(req);
    const match = BROWSER_WS.exec(path) ?? PAGE_WS.exec(path);
    if (!match || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket')
      return rejectUpgrade(socket, 404, 'Not Found');
    const id = match[1] ?? ''; // pod ids are URL-safe as they are (pod.store.ts)
    const g = gate(this.registry.get(id), socket);
    if (!g.ok) {
      if ('status' in g) rejectUpgrade(socket, g.status, g.text);
      return;
    }
    const targetId = match[2];
    if (targetId !== undefined && !g.pod.browser.hasTarget(targetId))
      return rejectUpgrade(socket, 404, 'Not Found');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(g.pod, ws));
  }

  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private attach(pod: SimPod, ws: WebSocket): void {
    // The pod may have been killed or deleted while the handshake completed.
    if (pod.record.state === 'killed' || this.registry.get(pod.record.id) !== pod) return ws.terminate();
    pod.sockets.add(ws);
    const conn = { discover: false };
    ws.on('error', () => undefined); // a client dropping mid-frame is not the server's problem
    ws.on('close', () => pod.sockets.delete(ws));
    ws.on('message', (data: Buffer, isBinary) => {
      this.onActivity();
      // A stalled browser reads and never answers.
      if (isBinary || pod.record.state !== 'ready') return;
      const outcome = pod.browser.handle(data.toString('utf8'), conn);
      for (const frame of outcome.frames) ws.send(frame);
      if (outcome.close) ws.close(1000);
    });
  }
}
