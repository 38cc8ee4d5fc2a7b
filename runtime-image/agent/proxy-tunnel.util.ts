/** Socket plumbing for the pod's forwarding proxy: CONNECT to an upstream, splicing, header hygiene. */
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

/** Where the upstream proxy is and the `Proxy-Authorization` value to send it, if any. */
export interface UpstreamAddress {
  host: string;
  port: number;
  /** `Basic …`; held in memory only, never logged. */
  authorization?: string;
}

/**
 * Host and port of an `http://host[:port]` upstream URL, or why it is not one. The broker refuses
 * other URLs first (core/domain/proxy-settings.ts); the agent checks again since it imports no
 * domain code. Messages never echo the URL (it might carry credentials).
 */
export function upstreamAddressOf(url: string): { host: string; port: number } | string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'proxy.url is not a valid URL';
  }
  if (parsed.protocol !== 'http:') return 'proxy.url must be an http:// URL';
  if (parsed.username !== '' || parsed.password !== '') return 'proxy.url must not carry credentials';
  if (parsed.hostname === '') return 'proxy.url has no host';
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? 80 : Number(parsed.port),
  };
}

/** The value of `Proxy-Authorization` for a username and password (RFC 7617). */
export function basicAuthorization(username: string | undefined, password: string | undefined): string {
  return `Basic ${Buffer.from(`${username ?? ''}:${password ?? ''}`, 'utf8').toString('base64')}`;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) plus the proxy ones: never forwarded to the next hop.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'upgrade',
]);

/** `headers` without hop-by-hop ones (and without any header the `connection` header names). */
export function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(key) || named.has(key)) continue;
    out[key] = value;
  }
  return out;
}

export interface Tunnel {
  /** The upstream's status for the CONNECT; the socket is open only when it is 2xx. */
  status: number;
  socket: Socket;
  /** Bytes the upstream sent after its response head (the start of the tunnelled stream). */
  head: Buffer;
}

/** Why a tunnel could not be asked for: the upstream was unreachable or silent. No secrets inside. */
export class UpstreamUnreachableError extends Error {
  override name = 'UpstreamUnreachableError';
  constructor(
    message: string,
    readonly timedOut: boolean,
  ) {
    super(message);
  }
}

/**
 * Sends `CONNECT target` to the upstream and resolves with its answer (any status), or rejects with
 * UpstreamUnreachableError when the upstream cannot be reached or says nothing within `timeoutMs`.
 */
export function openTunnel(up: UpstreamAddress, target: string, timeoutMs: number): Promise<Tunnel> {
  return new Promise<Tunnel>((resolve, reject) => {
    const req = http.request({
      host: up.host,
      port: up.port,
      method: 'CONNECT',
      path: target,
      headers: {
        host: target,
        ...(up.authorization !== undefined && { 'proxy-authorization': up.authorization }),
      },
      agent: false,
    });
    // One deadline for connecting and for the answer: a black-holed upstream must not hang a session.
    const timer = setTimeout(() => {
      req.destroy(new UpstreamUnreachableError(`did not answer within ${timeoutMs / 1000} s`, true));
    }, timeoutMs);
    // Node reports every answer to a CONNECT (200 or 407 alike) as 'connect', with the raw socket.
    req.once('connect', (res, socket, head) => {
      clearTimeout(timer);
      res.resume();
      resolve({ status: res.statusCode ?? 0, socket, head });
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err instanceof UpstreamUnreachableError) reject(err);
      else reject(new UpstreamUnreachableError(`could not be reached (${err.code ?? err.message})`, false));
    });
    req.end();
  });
}

/** Pipes two sockets into each other; when either side ends or fails, both are closed. */
export function splice(a: Duplex, b: Duplex): void {
  const closeBoth = (): void => {
    a.destroy();
    b.destroy();
  };
  a.once('error', closeBoth).once('close', closeBoth);
  b.once('error', closeBoth).once('close', closeBoth);
  a.pipe(b);
  b.pipe(a);
}

/** Answers a CONNECT on the raw client socket with a status line and closes it. */
export function refuseTunnel(socket: Duplex, status: number, reason: string): void {
  if (socket.destroyed) return;
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
}
