/**
 * The pod agent's wire protocol: the one module the agent and every driver's control-plane side
 * share. It says how the control plane reaches an agent (a TCP base URL, or a unix socket for local
 * pods), how it proves itself (a per-pod secret in a header), the routes, and the bodies they carry.
 * An RDA or any other runtime that implements these routes can sit behind the same drivers.
 *
 * Routes (every one requires `AGENT_SECRET_HEADER`; any request or upgrade with an `Origin` header is
 * refused with 403, because only a browser sends one and no browser is a legitimate caller):
 *   GET  /healthz             200 {ok:true, networkWarm} while the browser answers, else 503;
 *                             networkWarm: its network path was warmed while warm (network.warmup.ts)
 *   GET  /json/version        Chromium's version document, its webSocketDebuggerUrl pointing here
 *   POST /session             the claim: PodSessionConfig; closes every CDP and VNC connection open
 *                             before it; 204, 200 {restored}, 400, or 422 {error} (refused settings)
 *   GET  /storage-state       the browser's PodStorageState now
 *   GET  /live-view           {available, interactive}
 *   GET  /proxy               the forwarding proxy's status
 *   POST /recording/stop      summary | 204 (nothing painted) | 404 (not recording)
 *   GET  /recording           the encoded WebM
 *   WS   /devtools/browser    CDP, relayed to the browser launched by this agent (its GUID only)
 *   WS   /vnc                 the live view (RFB)
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that carries the pod's secret on every request and upgrade. */
export const AGENT_SECRET_HEADER = 'x-ventus-agent-secret';
/** The agent reads its secret from this variable (a Kubernetes Secret, or the local driver's spawn). */
export const AGENT_SECRET_ENV = 'VENTUS_AGENT_SECRET';

/** Relayed CDP: the only browser path (clients may name any guid; the relay uses the launched one). */
export const AGENT_BROWSER_PATH = '/devtools/browser';
export const AGENT_VNC_PATH = '/vnc';

/**
 * A pod's agent secret: HMAC-SHA256 of the pod id under the control plane's pod-agent key. Random to
 * anyone without the key, different for every pod, and computable by every control-plane process
 * (no per-pod store); a pod learns only its own.
 */
export function agentSecretFor(key: string, podId: string): string {
  return createHmac('sha256', key).update(`ventus-pod-agent:${podId}`).digest('base64url');
}

/** Constant-time comparison of a presented secret with the expected one. */
export function secretMatches(presented: string | string[] | undefined, expected: string): boolean {
  if (typeof presented !== 'string' || expected.length === 0) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The one JSON line the agent prints on stdout once ready. */
export interface AgentReadyLine {
  ready: true;
  /** The TCP port, or 0 when the agent listens on a unix socket only. */
  port: number;
  /** The unix socket the agent listens on, when it does. */
  socket?: string;
  pid: number;
}

/** Where an agent listens: a unix socket (local pods) or host:port (Kubernetes, the runtime image). */
export type AgentEndpoint = { socketPath: string } | { host: string; port: number };

const UNIX_HTTP = 'http+unix:';
const UNIX_WS = 'ws+unix:';

function hostOf(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The agent's HTTP base (`controlUrl`) for an endpoint: `http://h:p` or `http+unix://<encoded path>`. */
export function agentControlUrl(endpoint: AgentEndpoint): string {
  if ('socketPath' in endpoint) return `${UNIX_HTTP}//${encodeURIComponent(endpoint.socketPath)}`;
  return `http://${hostOf(endpoint.host)}:${endpoint.port}`;
}

/** The agent's CDP URL (`cdpUrl`) for an endpoint. */
export function agentCdpUrl(endpoint: AgentEndpoint): string {
  if ('socketPath' in endpoint)
    return `${UNIX_WS}//${encodeURIComponent(endpoint.socketPath)}${AGENT_BROWSER_PATH}`;
  return `ws://${hostOf(endpoint.host)}:${endpoint.port}${AGENT_BROWSER_PATH}`;
}

/** A control or CDP URL taken apart: where to connect, and the path (with query) to ask for. */
export interface AgentTarget {
  endpoint: AgentEndpoint;
  /** Path and query, e.g. `/devtools/browser`. */
  path: string;
  /** What to send as `Host`. */
  hostHeader: string;
}

/** Parses `agentControlUrl`/`agentCdpUrl` output (with a path appended, or not). */
export function agentTarget(url: string, extraPath = ''): AgentTarget {
  const parsed = new URL(url + extraPath);
  const path = `${parsed.pathname || '/'}${parsed.search}`;
  if (parsed.protocol === UNIX_HTTP || parsed.protocol === UNIX_WS) {
    return { endpoint: { socketPath: decodeURIComponent(parsed.host) }, path, hostHeader: 'localhost' };
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = Number(parsed.port || (parsed.protocol === 'https:' || parsed.protocol === 'wss:' ? 443 : 80));
  return { endpoint: { host, port }, path, hostHeader: parsed.host };
}

/** Session settings applied inside the browser when a pod is handed to a session (POST /session). */
export interface PodSessionConfig {
  viewport?: { width: number; height: number };
  userAgent?: string;
  /** Cookies and localStorage to restore before the session is handed over (Playwright's shape). */
  storageState?: PodStorageState;
  /** Upstream HTTP proxy for all of the browser's traffic; the agent checks it before answering. */
  proxy?: PodProxyConfig;
  /** Record the session (screencast to WebM, pod.recording.ts); stopped at teardown. */
  recording?: { enabled: boolean };
}

/** A session's upstream proxy. The password travels only to the pod's agent, never into a log. */
export interface PodProxyConfig {
  url: string;
  username?: string;
  password?: string;
}

/** Playwright's storage_state shape (the API's), declared here so the agent needs no schema library. */
export interface PodStorageState {
  cookies?: {
    name: string;
    value: string;
    domain?: string;
    path?: string;
    url?: string;
    /** Unix seconds; -1 (or absent) is a session cookie. */
    expires?: number;
    httpOnly?: boolean;
    secure?: boolean;
    sameSite?: 'Strict' | 'Lax' | 'None';
  }[];
  origins?: { origin: string; localStorage: { name: string; value: string }[] }[];
}

/** What POST /session restored: counts only, never values. */
export interface RestoredCounts {
  cookies: number;
  origins: { origin: string; localStorageItems: number }[];
}
