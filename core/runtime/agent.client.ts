/**
 * HTTP to a pod's agent, over TCP (Kubernetes: the pod IP) or a unix socket (local pods), always
 * with the pod's own secret (runtime-image/agent/protocol.ts). Every control-plane call to an agent
 * goes through here, so none can forget the secret or the socket.
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { AGENT_SECRET_HEADER, agentSecretFor, agentTarget } from '../../runtime-image/agent/protocol.ts';

/** The control plane's key to every pod agent: each pod's secret is derived from it and the pod id. */
export class PodAgentAccess {
  constructor(private readonly key: string) {
    if (key.length < 32) throw new Error('the pod agent key must be at least 32 characters');
  }

  secretFor(podId: string): string {
    return agentSecretFor(this.key, podId);
  }

  /** The header that opens one pod's agent. */
  headers(podId: string): Record<string, string> {
    return { [AGENT_SECRET_HEADER]: this.secretFor(podId) };
  }
}

/** Which agent: the pod's id (its secret) and its control URL (where it listens). */
export interface AgentRef {
  id: string;
  controlUrl: string;
}

export interface AgentResponse {
  status: number;
  body: Readable;
  text(): Promise<string>;
  json<T>(): Promise<T>;
  /** Drops the body unread. */
  discard(): void;
}

export interface AgentRequestOptions {
  method?: 'GET' | 'POST';
  /** JSON-encoded and sent with content-type application/json. */
  json?: unknown;
  timeoutMs: number;
}

async function readAll(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One request to a pod's agent. Rejects on network errors and timeouts, never on an HTTP status. */
export function agentRequest(
  access: PodAgentAccess,
  pod: AgentRef,
  path: string,
  options: AgentRequestOptions,
): Promise<AgentResponse> {
  const target = agentTarget(pod.controlUrl, path);
  const payload = options.json === undefined ? undefined : JSON.stringify(options.json);
  const headers: Record<string, string | number> = { host: target.hostHeader, ...access.headers(pod.id) };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise<AgentResponse>((resolve, reject) => {
    const req = http.request(
      {
        ...('socketPath' in target.endpoint
          ? { socketPath: target.endpoint.socketPath }
          : { host: target.endpoint.host, port: target.endpoint.port }),
        method: options.method ?? 'GET',
        path: target.path,
        headers,
        signal: AbortSignal.timeout(options.timeoutMs),
        agent: false,
      },
      (res) => {
        let text: Promise<string> | undefined;
        resolve({
          status: res.statusCode ?? 0,
          body: res,
          text: () => (text ??= readAll(res)),
          json: async <T>() => JSON.parse(await (text ??= readAll(res))) as T,
          discard: () => res.resume(),
        });
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}

/** True when the agent answers `path` with 2xx within `timeoutMs`. */
export async function agentAnswersOk(
  access: PodAgentAccess,
  pod: AgentRef,
  path: string,
  timeoutMs = 1_000,
): Promise<boolean> {
  try {
    const res = await agentRequest(access, pod, path, { timeoutMs });
    res.discard();
    return res.status >= 200 && res.status < 300;
  } catch {
    return false;
  }
}

/**
 * What the `ws` library needs to open one of an agent's WebSocket endpoints (`/vnc`,
 * `/devtools/browser`): its URL (`ws+unix:` for a socket) and the pod's secret as a header.
 */
export function agentWebSocket(
  access: PodAgentAccess,
  pod: AgentRef,
  path: string,
): { url: string; headers: Record<string, string> } {
  const target = agentTarget(pod.controlUrl, path);
  const url =
    'socketPath' in target.endpoint
      ? `ws+unix://${target.endpoint.socketPath}:${target.path}`
      : `ws://${target.hostHeader}${target.path}`;
  return { url, headers: access.headers(pod.id) };
}
