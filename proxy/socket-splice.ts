/**
 * A raw WebSocket splice: replay the client's upgrade request to the pod, then pipe bytes both ways.
 * Frames pass untouched (no parse, no re-frame), and whichever side ends, both are destroyed once.
 */
import net from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** Half-open peers (a laptop that slept) are noticed in seconds, not hours. */
const KEEPALIVE_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

const HOP_HEADERS = new Set(['host', 'connection', 'upgrade', 'authorization', 'cookie', 'x-forwarded-for']);

function upgradeRequest(req: IncomingMessage, target: URL): string {
  const lines = [
    `GET ${target.pathname}${target.search} HTTP/1.1`,
    `Host: ${target.host}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
  ];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (!HOP_HEADERS.has(name.toLowerCase())) lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Bytes seen in one direction (called per chunk, so counters move while a connection lives). */
export type OnBytes = (direction: 'client_to_pod' | 'pod_to_client', bytes: number) => void;

export interface Splice {
  /** Resolves once, when either side closes or fails. */
  closed: Promise<void>;
  destroy(): void;
}

export function spliceWebSocket(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  targetUrl: string,
  onBytes?: OnBytes,
): Splice {
  const target = new URL(targetUrl);
  const upstream = net.connect({ host: target.hostname, port: Number(target.port) });
  let done = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const destroy = () => {
    if (done) return;
    done = true;
    clearTimeout(connectTimer);
    client.destroy();
    upstream.destroy();
    resolveClosed();
  };
  const connectTimer = setTimeout(destroy, CONNECT_TIMEOUT_MS);
  upstream.setNoDelay(true);
  upstream.setKeepAlive(true, KEEPALIVE_MS);
  if (client instanceof net.Socket) {
    client.setNoDelay(true);
    client.setKeepAlive(true, KEEPALIVE_MS);
    client.setTimeout(0);
  }
  upstream.once('connect', () => {
    clearTimeout(connectTimer);
    upstream.write(upgradeRequest(req, target));
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
    if (onBytes) {
      // Attached after pipe(): a 'data' listener added earlier would start the flow before the pipe.
      if (head.length > 0) onBytes('client_to_pod', head.length);
      client.on('data', (chunk: Buffer) => onBytes('client_to_pod', chunk.length));
      upstream.on('data', (chunk: Buffer) => onBytes('pod_to_client', chunk.length));
    }
  });
  for (const side of [client, upstream]) {
    side.once('error', destroy);
    side.once('close', destroy);
    side.once('end', destroy);
  }
  return { closed, destroy };
}

/** Answers an upgrade we refuse with a plain HTTP status and closes the socket. Never throws. */
export function refuseUpgrade(client: Duplex, status: number, message: string): void {
  const reason =
    {
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'Not Found',
      409: 'Conflict',
      410: 'Gone',
      502: 'Bad Gateway',
      503: 'Service Unavailable',
    }[status] ?? 'Error';
  const body = JSON.stringify({
    type: `https://api.sessions.ventus.ai/errors/${status === 400 ? 'validation-error' : status === 401 ? 'unauthorized' : status === 404 ? 'not-found' : status === 410 || status === 409 ? 'state-conflict' : 'service-unavailable'}`,
    title: reason,
    status,
    detail: message,
  });
  try {
    client.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  } catch {
    // the socket is already gone
  }
  client.destroy();
}
