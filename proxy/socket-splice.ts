/**
 * A raw WebSocket splice: replay the client's upgrade request to the pod, then pass bytes both ways.
 * Frames pass untouched (no parse, no re-frame), and whichever side ends, both are destroyed once.
 * With a kernel relay (runtime-image/agent/kernel.relay.ts) the bytes move in the kernel, outside
 * this process; without one, or for a socket it cannot take, they are piped here.
 */
import net from 'node:net';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { ProblemDocument } from '../core/domain/problems.ts';
import type { Duplex } from 'node:stream';
import { AGENT_SECRET_HEADER, agentTarget, type AgentTarget } from '../runtime-image/agent/protocol.ts';
import type { KernelRelay, OnBytes, Splice } from '../runtime-image/agent/kernel.relay.ts';

/** Half-open peers (a laptop that slept) are noticed in seconds, not hours. */
const KEEPALIVE_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

// Not passed to the pod: hop-by-hop, the client's credentials, and `Origin` (the agent refuses any
// upgrade that carries one, since only a browser sends it; our own clients' origins end here).
const HOP_HEADERS = new Set([
  'host',
  'connection',
  'upgrade',
  'authorization',
  'cookie',
  'x-forwarded-for',
  'origin',
  AGENT_SECRET_HEADER,
]);

/** Where a splice goes: the pod's CDP URL (runtime-image/agent/protocol.ts) and headers to add. */
export interface SpliceTarget {
  url: string;
  headers: Record<string, string>;
}

function upgradeRequest(req: IncomingMessage, target: AgentTarget, extra: Record<string, string>): string {
  const lines = [
    `GET ${target.path} HTTP/1.1`,
    `Host: ${target.hostHeader}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
  ];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (!HOP_HEADERS.has(name.toLowerCase())) lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  for (const [name, value] of Object.entries(extra)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export function spliceWebSocket(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  spliceTarget: SpliceTarget,
  onBytes?: OnBytes,
  kernelRelay?: KernelRelay,
): Splice {
  const target = agentTarget(spliceTarget.url);
  // Socket options live on the socket, so they hold in the kernel relay too.
  if (client instanceof net.Socket) {
    client.setNoDelay(true);
    client.setKeepAlive(true, KEEPALIVE_MS);
    client.setTimeout(0);
  }
  if (kernelRelay) {
    const request = Buffer.concat([Buffer.from(upgradeRequest(req, target, spliceTarget.headers)), head]);
    const handedOver = kernelRelay.relay(client, target.endpoint, request, onBytes);
    if (handedOver) {
      if (head.length > 0) onBytes?.('client_to_pod', head.length);
      return handedOver;
    }
  }
  const upstream = net.connect(
    'socketPath' in target.endpoint
      ? { path: target.endpoint.socketPath }
      : { host: target.endpoint.host, port: target.endpoint.port },
  );
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
  upstream.once('connect', () => {
    clearTimeout(connectTimer);
    upstream.write(upgradeRequest(req, target, spliceTarget.headers));
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

/**
 * Answers an upgrade we refuse with its problem document (RFC 7807, `instance` included) and closes
 * the socket. Never throws.
 */
export function refuseUpgrade(client: Duplex, doc: ProblemDocument): void {
  const reason = STATUS_CODES[doc.status] ?? 'Error';
  const body = JSON.stringify(doc);
  try {
    client.end(
      `HTTP/1.1 ${doc.status} ${reason}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  } catch {
    // the socket is already gone
  }
  client.destroy();
}
