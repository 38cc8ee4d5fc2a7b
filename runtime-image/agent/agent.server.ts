/**
 * The agent's HTTP surface: health, Chromium's version document, session settings, and the CDP
 * WebSocket relay. Built from its dependencies and opens nothing itself (pod.agent.ts listens).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { PodSessionConfig, PodStorageState, RestoredCounts } from './protocol.ts';
import type { CdpRelay } from './cdp.relay.ts';
import { VNC_PATH } from './vnc.relay.ts';
import { AGENT_SECRET_HEADER, secretMatches } from './protocol.ts';
import { readBody, sendJson as send } from './http-json.ts';

/** A pod's live view at `/vnc`: x11vnc (headful) or the screencast RFB server (headless). */
export interface LiveViewServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Cuts every viewer. */
  disconnectAll(): void;
  /** Shows the session's viewport (undefined: the page's window), at the claim and after. */
  fitViewport(viewport: { width: number; height: number } | undefined): void;
  /** False when viewers can only watch (the headless screencast). */
  readonly interactive: boolean;
}
import { parseStorageState } from './storage-state.ts';
import { parseUpstreamProxy, type ForwardProxyStatus } from './forward-proxy.ts';
import { handleRecordingRequest, type PodRecording } from './pod.recording.ts';

export interface AgentServerDeps {
  /** Chromium's /json/version, or undefined when it does not answer. */
  version(): Promise<Record<string, unknown> | undefined>;
  configure(config: PodSessionConfig): Promise<void>;
  /** Applies a storage_state (cookies, localStorage) before the session is handed over. */
  restoreStorage(state: PodStorageState): Promise<RestoredCounts>;
  /** The browser's storage_state now. */
  captureStorage(): Promise<PodStorageState>;
  /** Checks the session's upstream proxy and routes traffic through it; resolves with a refusal, if any. */
  useProxy(proxy: NonNullable<PodSessionConfig['proxy']>): Promise<string | undefined>;
  proxyStatus(): ForwardProxyStatus;
  /** Whether the browser's network path was warmed while the pod was warm (network.warmup.ts). */
  networkWarm(): boolean;
  /** The session's recording (POST /recording/stop, GET /recording). */
  recording: PodRecording;
  relay: CdpRelay;
  /** The live view (`/vnc`); undefined when the pod has none. */
  vnc: LiveViewServer | undefined;
  /** The pod's secret: every request and upgrade must present it (protocol.ts). */
  secret: string;
  log: Logger;
}

const isDimension = (n: unknown): n is number =>
  Number.isInteger(n) && (n as number) > 0 && (n as number) <= 10_000;

/** Validates a POST /session body; returns the config or a message for a 400. */
export function parseSessionConfig(raw: string): PodSessionConfig | string {
  let body: unknown;
  try {
    body = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    return 'body is not JSON';
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object';
  const { viewport, userAgent, storageState, proxy, recording } = body as Record<string, unknown>;
  const config: PodSessionConfig = {};
  if (viewport !== undefined) {
    const v = viewport as Record<string, unknown> | null;
    if (typeof v !== 'object' || v === null || !isDimension(v.width) || !isDimension(v.height)) {
      return 'viewport must be {width, height} with integers 1..10000';
    }
    config.viewport = { width: v.width, height: v.height };
  }
  if (userAgent !== undefined) {
    if (typeof userAgent !== 'string' || userAgent.length === 0 || userAgent.length > 1024) {
      return 'userAgent must be a non-empty string of at most 1024 characters';
    }
    config.userAgent = userAgent;
  }
  if (storageState !== undefined) {
    const state = parseStorageState(storageState);
    if (typeof state === 'string') return state;
    config.storageState = state;
  }
  if (proxy !== undefined) {
    const settings = parseUpstreamProxy(proxy);
    if (typeof settings === 'string') return settings;
    config.proxy = settings;
  }
  if (recording !== undefined) {
    const enabled = (recording as Record<string, unknown> | null)?.enabled;
    if (typeof enabled !== 'boolean') return 'recording must be {enabled: boolean}';
    config.recording = { enabled };
  }
  return config;
}

/**
 * The lock on the door: 403 for anything a browser sent (it carries `Origin`; the control plane never
 * does, and our proxy drops its clients' Origin), 401 without this pod's secret. Undefined: let it in.
 */
export function refusal(
  req: IncomingMessage,
  secret: string,
): { status: 401 | 403; text: string } | undefined {
  if (req.headers.origin !== undefined) return { status: 403, text: 'Forbidden' };
  if (!secretMatches(req.headers[AGENT_SECRET_HEADER], secret)) return { status: 401, text: 'Unauthorized' };
  return undefined;
}

/** Agents whose pod has been claimed (one agent per process; a set keeps handle() free of state). */
const claimed = new WeakSet<AgentServerDeps>();

async function handle(deps: AgentServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const refused = refusal(req, deps.secret);
  if (refused) return send(res, refused.status, { error: refused.text });
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/healthz') {
    const ok = (await deps.version()) !== undefined;
    return send(res, ok ? 200 : 503, { ok, networkWarm: deps.networkWarm() });
  }
  if (req.method === 'GET' && (path === '/json/version' || path === '/json/version/')) {
    const version = await deps.version();
    if (!version) return send(res, 503, { error: 'browser not answering' });
    // Point clients at the agent (as they reached it), not at Chromium's unreachable 127.0.0.1.
    const upstream = typeof version.webSocketDebuggerUrl === 'string' ? version.webSocketDebuggerUrl : '';
    const browserPath = upstream ? new URL(upstream).pathname : '/devtools/browser';
    const host = req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`;
    return send(res, 200, { ...version, webSocketDebuggerUrl: `ws://${host}${browserPath}` });
  }
  if (req.method === 'POST' && path === '/session') {
    const config = parseSessionConfig(await readBody(req));
    if (typeof config === 'string') return send(res, 400, { error: config });
    // The claim (the first POST /session): whatever connected to this pod before it was handed to a
    // session (while it was warm) is cut, so no socket outlives the hand-over and sees the session.
    // Later calls only re-apply settings: the session's own clients stay connected.
    const first = !claimed.has(deps);
    if (first) {
      claimed.add(deps);
      await deps.relay.closeAll();
      deps.vnc?.disconnectAll();
    }
    // The proxy first, and answered before anything else: a refused upstream fails the claim (422).
    const refused = config.proxy && (await deps.useProxy(config.proxy));
    if (refused) return send(res, 422, { error: refused });
    // Storage first: the helper tab it opens is gone before the emulator starts attaching to pages.
    const restored = config.storageState && (await deps.restoreStorage(config.storageState));
    // Always at the claim: the emulator also keeps every window of a headful pod fullscreen.
    if (first || config.viewport || config.userAgent !== undefined) await deps.configure(config);
    if (first || config.viewport) deps.vnc?.fitViewport(config.viewport);
    // Last: the helper tab of the storage restore is gone, so the recording starts on the user's page.
    if (config.recording?.enabled) await deps.recording.start();
    return restored ? send(res, 200, { restored }) : send(res, 204);
  }
  if (req.method === 'GET' && path === '/proxy') return send(res, 200, deps.proxyStatus());
  // Whether this pod has a desktop to show: the broker asks before it hands out a live view link.
  if (req.method === 'GET' && path === '/live-view')
    return send(res, 200, { available: !!deps.vnc, interactive: deps.vnc?.interactive ?? false });
  if (await handleRecordingRequest(deps.recording, req, res, path ?? '/')) return;
  if (req.method === 'GET' && path === '/storage-state') {
    return send(res, 200, await deps.captureStorage());
  }
  return send(res, 404, { error: 'not found' });
}

export function createAgentServer(deps: AgentServerDeps): Server {
  const server = createServer((req, res) => {
    handle(deps, req, res).catch((err: Error) => {
      deps.log.warn({ err, url: req.url }, 'request failed');
      if (!res.headersSent) send(res, 500, { error: err.message });
      else res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    const refused = refusal(req, deps.secret);
    if (refused) {
      socket.end(
        `HTTP/1.1 ${refused.status} ${refused.text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return socket.destroy();
    }
    if ((req.url ?? '').split('?')[0] === VNC_PATH) {
      if (deps.vnc) return deps.vnc.handleUpgrade(req, socket, head);
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return socket.destroy();
    }
    deps.relay.handleUpgrade(req, socket, head);
  });
  return server;
}
