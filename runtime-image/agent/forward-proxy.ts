/**
 * The pod's forwarding proxy. Chromium's proxy is fixed at launch, so every pod's Chromium starts
 * pointed at this proxy (127.0.0.1 inside the pod) and a session picks the real route when it claims
 * the pod: `direct` (no upstream: requests and CONNECT tunnels go straight out, as Chrome would) or
 * `upstream` (everything goes through the session's HTTP proxy, with its credentials added here).
 *
 * Every target, direct or the upstream itself, passes the egress check after DNS resolution
 * (egress.check.ts): a page gets 403 for loopback, link-local, metadata and (unless allowed) private
 * addresses, whatever name it used.
 *
 * Chromium never sees a 407: it would wait on an auth prompt (or a CDP Fetch.authRequired nobody
 * answers). The upstream's 407, or its silence, becomes a 502 for the page and a recorded error.
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import {
  UpstreamUnreachableError,
  basicAuthorization,
  endToEndHeaders,
  openTunnel,
  refuseTunnel,
  splice,
  upstreamAddressOf,
  type UpstreamAddress,
} from './proxy-tunnel.util.ts';
import type { EgressPolicy, EgressUse } from '../../core/security/egress-policy.ts';
import { checkEgress, type EgressVerdict, type Resolve } from './egress.check.ts';
import { WARMUP_URL } from './network.warmup.ts';

/** A session's upstream proxy, as POST /session carries it. */
export interface UpstreamProxySettings {
  url: string;
  username?: string;
  password?: string;
}

/** Validates POST /session's `proxy`; returns the settings or a message for a 400. */
export function parseUpstreamProxy(raw: unknown): UpstreamProxySettings | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'proxy must be an object';
  const { url, username, password } = raw as Record<string, unknown>;
  if (typeof url !== 'string' || url.length > 2048) return 'proxy.url must be a string';
  const address = upstreamAddressOf(url);
  if (typeof address === 'string') return address;
  if (username !== undefined && (typeof username !== 'string' || username.length > 256))
    return 'proxy.username must be a string of at most 256 characters';
  if (password !== undefined && (typeof password !== 'string' || password.length > 1024))
    return 'proxy.password must be a string of at most 1024 characters';
  return {
    url,
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
  };
}

/** The upstream was refused at claim time; `message` is safe to show the session's owner. */
export class ProxyRefusedError extends Error {
  override name = 'ProxyRefusedError';
}

export interface ForwardProxyStatus {
  mode: 'direct' | 'upstream';
  /** The last failure talking to the upstream during the session (a 407, a refusal), if any. */
  lastError: string | null;
}

/**
 * What a claim-time check CONNECTs to. RFC 6761 reserves `.invalid`: nothing is ever reached, yet a
 * proxy authenticates a CONNECT before resolving its target, so a 407 means refused credentials and
 * any other answer (a 502 or 503 for the unresolvable name) means the proxy is up and took them.
 */
export const PROBE_TARGET = 'ventus-proxy-check.invalid:443';
const PROBE_TIMEOUT_MS = 5_000;
/** How long a page's CONNECT may wait for the upstream's answer before the page gets a 502. */
const TUNNEL_TIMEOUT_MS = 30_000;

export class ForwardProxy {
  private readonly server: Server;
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly sockets = new Set<Duplex>();
  private upstream: UpstreamAddress | undefined;
  private lastError: string | null = null;

  constructor(
    private readonly log: Logger,
    private readonly egress: EgressPolicy,
    private readonly resolve?: Resolve,
  ) {
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onConnect(req, socket, head),
    );
    this.server.on('clientError', (_err, socket: Duplex) => refuseTunnel(socket, 400, 'Bad Request'));
  }

  /**
   * Listens on 127.0.0.1 at a free port and returns it (what Chromium's --proxy-server names), or on
   * a unix socket (bridged into the browser's own network, browser.sandbox.ts) and returns 0.
   */
  async listen(socketPath?: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      if (socketPath) this.server.listen(socketPath, () => resolve());
      else this.server.listen(0, '127.0.0.1', () => resolve());
    });
    return socketPath ? 0 : (this.server.address() as AddressInfo).port;
  }

  private check(use: EgressUse, host: string, port: number): Promise<EgressVerdict> {
    return checkEgress(this.egress, use, host, port, this.resolve);
  }

  status(): ForwardProxyStatus {
    return { mode: this.upstream ? 'upstream' : 'direct', lastError: this.lastError };
  }

  /**
   * Checks the upstream with its credentials (a CONNECT to PROBE_TARGET) and, when it accepts them,
   * routes all traffic through it from now on. Throws ProxyRefusedError (and keeps the current mode)
   * when it answers 407, cannot be reached, or stays silent for 5 s.
   */
  async useUpstream(settings: UpstreamProxySettings, timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
    const address = upstreamAddressOf(settings.url);
    if (typeof address === 'string') throw new ProxyRefusedError(address);
    const { port } = address;
    // The upstream is pinned to the address checked now: a later DNS answer cannot move it.
    const verdict = await this.check('upstream-proxy', address.host, port);
    if ('refused' in verdict)
      throw new ProxyRefusedError(`The upstream proxy is ${verdict.refused}, which sessions may not reach`);
    const host = verdict.address;
    const withCredentials = settings.username !== undefined || settings.password !== undefined;
    const up: UpstreamAddress = {
      host,
      port,
      ...(withCredentials && { authorization: basicAuthorization(settings.username, settings.password) }),
    };
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    let status: number;
    try {
      const tunnel = await openTunnel(up, PROBE_TARGET, timeoutMs);
      tunnel.socket.destroy();
      status = tunnel.status;
    } catch (err) {
      const why = err instanceof UpstreamUnreachableError ? err.message : 'failed';
      throw new ProxyRefusedError(`The upstream proxy at ${where} ${why}`);
    }
    if (status === 407) {
      throw new ProxyRefusedError(
        withCredentials
          ? 'The upstream proxy refused the credentials (407)'
          : 'The upstream proxy requires credentials (407); none were given',
      );
    }
    this.upstream = up;
    this.lastError = null;
    // A tunnel opened before the switch (direct) would keep bypassing the upstream: close them all.
    for (const socket of this.sockets) socket.destroy();
    this.log.info({ upstream: where, probeStatus: status, withCredentials }, 'upstream proxy in use');
  }

  /** useUpstream, with a refusal as the resolved message (for POST /session's 422). */
  async tryUpstream(settings: UpstreamProxySettings): Promise<string | undefined> {
    try {
      await this.useUpstream(settings);
      return undefined;
    } catch (err) {
      if (err instanceof ProxyRefusedError) return err.message;
      throw err;
    }
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    this.agent.destroy();
  }

  private recordError(message: string): void {
    if (this.lastError !== message) this.log.warn({ proxyError: message }, 'upstream proxy failure');
    this.lastError = message;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    // The agent's own warm-up (network.warmup.ts), answered here: no lookup, no egress, no upstream.
    if (req.url === WARMUP_URL) return void res.writeHead(204, { 'cache-control': 'no-store' }).end();
    if (this.upstream) return this.forward(req, res, undefined);
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      return void res.writeHead(400).end('a forward proxy needs an absolute URL');
    }
    const port = Number(target.port || 80);
    this.check('page', target.hostname, port).then(
      (verdict) => {
        if ('refused' in verdict) return refusePage(res, target.host, verdict.refused, this.log);
        this.forward(req, res, verdict.address);
      },
      () => void res.writeHead(502).end('bad gateway'),
    );
  }

  /** Sends a page's request on: to the upstream, or (direct) to the address the check approved. */
  private forward(req: IncomingMessage, res: ServerResponse, address: string | undefined): void {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      return void res.writeHead(400).end('a forward proxy needs an absolute URL');
    }
    if (target.protocol !== 'http:') return void res.writeHead(400).end('only http:// URLs are forwarded');
    const up = this.upstream;
    const headers = endToEndHeaders(req.headers);
    const options: http.RequestOptions = up
      ? {
          host: up.host,
          port: up.port,
          path: target.href,
          headers: { ...headers, ...(up.authorization && { 'proxy-authorization': up.authorization }) },
        }
      : {
          host: address,
          port: target.port || 80,
          path: `${target.pathname}${target.search}`,
          headers,
        };
    const outbound = http.request({ ...options, method: req.method, agent: this.agent }, (answer) => {
      if (up && answer.statusCode === 407) {
        answer.resume();
        this.recordError('The upstream proxy refused the credentials (407)');
        return void res.writeHead(502).end('upstream proxy refused the credentials');
      }
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEndHeaders(answer.headers));
      answer.pipe(res);
    });
    outbound.on('error', (err: NodeJS.ErrnoException) => {
      if (up) this.recordError(`The upstream proxy could not be reached (${err.code ?? 'error'})`);
      if (!res.headersSent) res.writeHead(502).end(up ? 'upstream proxy unreachable' : 'bad gateway');
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) outbound.destroy();
    });
    req.pipe(outbound);
  }

  private onConnect(req: IncomingMessage, client: Duplex, head: Buffer): void {
    this.track(client);
    const target = req.url ?? '';
    const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(target);
    if (!match) return refuseTunnel(client, 400, 'Bad Request');
    const up = this.upstream;
    if (!up) {
      const port = Number(match[2]);
      this.check('page', match[1] ?? '', port).then(
        (verdict) => {
          if ('refused' in verdict) {
            this.log.debug({ target, why: verdict.refused }, 'egress refused');
            return refuseTunnel(client, 403, 'Forbidden');
          }
          if (client.destroyed) return;
          const out = net.connect(port, verdict.address);
          this.track(out);
          const refuse = (): void => refuseTunnel(client, 502, 'Bad Gateway');
          out.once('error', refuse);
          out.once('connect', () => {
            out.off('error', refuse);
            client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            if (head.length > 0) out.write(head);
            splice(client, out);
          });
        },
        () => refuseTunnel(client, 502, 'Bad Gateway'),
      );
      return;
    }
    openTunnel(up, target, TUNNEL_TIMEOUT_MS).then(
      ({ status, socket, head: upstreamHead }) => {
        this.track(socket);
        if (client.destroyed) return void socket.destroy(); // the page gave up while we waited
        if (status < 200 || status > 299) {
          socket.destroy();
          if (status === 407) this.recordError('The upstream proxy refused the credentials (407)');
          return refuseTunnel(client, 502, 'Bad Gateway');
        }
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (upstreamHead.length > 0) client.write(upstreamHead);
        if (head.length > 0) socket.write(head);
        splice(client, socket);
      },
      (err: Error) => {
        this.recordError(`The upstream proxy ${err.message}`);
        refuseTunnel(client, 502, 'Bad Gateway');
      },
    );
  }

  private track(socket: Duplex): void {
    // A reset before splicing must not be an unhandled 'error' that kills the agent.
    socket.on('error', () => socket.destroy());
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}

/** The page's answer when the egress check refuses its target: a plain 403 that says why. */
function refusePage(res: ServerResponse, target: string, why: string, log: Logger): void {
  log.debug({ target, why }, 'egress refused');
  const body = `Ventus: ${target} is ${why}, which pages in this session may not reach.\n`;
  res.writeHead(403, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
