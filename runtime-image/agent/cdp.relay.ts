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
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { AGENT_SECRET_HEADER } from './protocol.ts';
import { connectDevtools, devtoolsHost, type DevtoolsAddress } from './devtools.address.ts';
import type { KernelRelay, Splice } from './kernel.relay.ts';

export interface RelayTarget {
  devtools: DevtoolsAddress;
  /** `/devtools/browser/<guid>`: the only browser path Chromium accepts. */
  browserPath: string;
}

const BROWSER_PATH = /^\/devtools\/browser(\/[^/]*)?$/;
// Host is rewritten below (Chromium wants an IP); the pod's secret stays with the agent. An upgrade
// with an Origin never gets here (agent.server.ts refuses it), so Chromium's own check stays armed.
const DROPPED_HEADERS = new Set(['host', AGENT_SECRET_HEADER]);
/** How long closeAll waits for the kernel relay to confirm a cut before it stops the relay. */
const CUT_CONFIRM_MS = 1_000;

function reject(socket: Duplex, status: number, text: string): void {
  if (socket.writable)
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

/** Chromium path a client's upgrade path maps to, or undefined when it is not a CDP endpoint. */
export function relayPath(requestUrl: string, target: RelayTarget): string | undefined {
  const path = requestUrl.split('?')[0] ?? '';
  // Only the browser this agent launched, under the guid read at launch: clients may know an old guid
  // (or none), and no client-chosen path (a page's, another browser's) is ever passed on.
  if (BROWSER_PATH.test(path)) return target.browserPath;
  return undefined;
}

export class CdpRelay {
  private readonly open = new Set<Duplex>();
  private readonly handedOver = new Set<Splice>();

  /** With `kernel`, a checked connection's bytes move in the kernel relay, not in this process. */
  constructor(
    private readonly target: () => RelayTarget | undefined,
    private readonly log: Logger,
    private readonly kernel?: KernelRelay,
  ) {}

  /** The http server's 'upgrade' handler. Never throws: failures answer with a status line. */
  handleUpgrade(req: IncomingMessage, client: Duplex, head: Buffer): void {
    const target = this.target();
    if (!target) return reject(client, 503, 'Service Unavailable');
    const path = relayPath(req.url ?? '', target);
    if (!path || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket')
      return reject(client, 404, 'Not Found');

    const lines = [`GET ${path} HTTP/1.1`, `Host: ${devtoolsHost(target.devtools)}`];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] ?? '';
      if (!DROPPED_HEADERS.has(name.toLowerCase())) lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
    }
    const request = lines.join('\r\n') + '\r\n\r\n';
    const handedOver = this.kernel?.relay(
      client,
      'socketPath' in target.devtools ? target.devtools : { host: '127.0.0.1', port: target.devtools.port },
      Buffer.concat([Buffer.from(request), head]),
    );
    if (handedOver) {
      this.handedOver.add(handedOver);
      void handedOver.closed.then(() => this.handedOver.delete(handedOver));
      return;
    }
    const upstream: Socket = connectDevtools(target.devtools);
    let answered = false;
    this.track(client, upstream);

    upstream.setNoDelay(true);
    if ('setNoDelay' in client && typeof client.setNoDelay === 'function')
      (client as Socket).setNoDelay(true);
    upstream.write(request);
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

  /**
   * Cuts every relayed connection (the claim, shutdown); resolves once each is closed. A kernel
   * relay that has not confirmed within a second is stopped, and every connection it holds with it.
   */
  async closeAll(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    this.open.clear();
    const handedOver = [...this.handedOver];
    if (handedOver.length === 0) return;
    for (const splice of handedOver) splice.destroy();
    const cut = Promise.all(handedOver.map((splice) => splice.closed)).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CUT_CONFIRM_MS)));
    const confirmed = await Promise.race([cut, late]);
    clearTimeout(timer);
    if (confirmed) return;
    this.log.warn({ connections: handedOver.length }, 'kernel relay did not confirm the cut; stopping it');
    this.kernel?.close();
    await cut; // its exit ends them all
  }

  private track(...sockets: Duplex[]): void {
    for (const socket of sockets) {
      this.open.add(socket);
      socket.once('close', () => this.open.delete(socket));
    }
  }
}
