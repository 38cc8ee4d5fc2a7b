/**
 * Relays CDP WebSocket connections from the agent's port to Chromium's.
 *
 * Why a relay at all: Chromium 156 binds DevTools to 127.0.0.1 only and rejects a Host header that
 * is not an IP, so nothing outside the pod can reach it directly. Why a raw TCP splice rather than a
 * WebSocket library: after the upgrade request the bytes are passed through untouched, so binary
 * frames, fragmentation and multi-megabyte screenshots cost one memcpy, with no re-framing, no
 * payload limits and no extra latency.
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';

export interface RelayTarget {
  port: number;
  /** `/devtools/browser/<guid>`: the only browser path Chromium accepts. */
  browserPath: string;
}

const BROWSER_PATH = /^\/devtools\/browser(\/[^/]*)?$/;
const PAGE_PATH = /^\/devtools\/page\/[A-Za-z0-9_-]+$/;
// Hop-specific or rewritten below: Host must be an IP for Chromium, and Chromium refuses any
// Origin not listed in --remote-allow-origins. Browser-based clients behind the proxy send one;
// the proxy (JWT) and the network policy are the access control, not Chromium's origin check.
const DROPPED_HEADERS = new Set(['host', 'origin']);

function reject(socket: Duplex, status: number, text: string): void {
  if (socket.writable)
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

/** Chromium path a client's upgrade path maps to, or undefined when it is not a CDP endpoint. */
export function relayPath(requestUrl: string, target: RelayTarget): string | undefined {
  const path = requestUrl.split('?')[0] ?? '';
  // Clients may know an old guid (or none): every browser path goes to the current browser.
  if (BROWSER_PATH.test(path)) return target.browserPath;
  if (PAGE_PATH.test(path)) return path;
  return undefined;
}

export class CdpRelay {
  private readonly open = new Set<Duplex>();

  constructor(
    private readonly target: () => RelayTarget | undefined,
    private readonly log: Logger,
  ) {}

  /** The http server's 'upgrade' handler. Never throws: failures answer with a status line. */
  handleUpgrade(req: IncomingMessage, client: Duplex, head: Buffer): void {
    const target = this.target();
    if (!target) return reject(client, 503, 'Service Unavailable');
    const path = relayPath(req.url ?? '', target);
    if (!path || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket')
      return reject(client, 404, 'Not Found');

    const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${target.port}`];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] ?? '';
      if (!DROPPED_HEADERS.has(name.toLowerCase())) lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
    }
    const upstream: Socket = connect({ host: '127.0.0.1', port: target.port });
    let answered = false;
    this.track(client, upstream);

    upstream.setNoDelay(true);
    if ('setNoDelay' in client && typeof client.setNoDelay === 'function')
      (client as Socket).setNoDelay(true);
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.once('data', () => (answered = true));
    upstream.on('error', (err) => {
      this.log.debug({ err }, 'cdp relay: upstream error');
      if (!answered) reject(client, 502, 'Bad Gateway');
      client.destroy();
    });
    client.on('error', (err) => {
      this.log.debug({ err }, 'cdp relay: client error');
      upstream.destroy();
    });
    // Whichever side goes away first takes the other with it: no half-open CDP connections.
    upstream.once('close', () => client.destroy());
    client.once('close', () => upstream.destroy());
    upstream.pipe(client);
    client.pipe(upstream);
  }

  /** Cuts every relayed connection (shutdown). */
  closeAll(): void {
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }

  private track(...sockets: Duplex[]): void {
    for (const socket of sockets) {
      this.open.add(socket);
      socket.once('close', () => this.open.delete(socket));
    }
  }
}
