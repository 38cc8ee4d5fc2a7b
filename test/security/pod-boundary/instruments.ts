/**
 * The test's own instruments on 127.0.0.1, which see effects the attacker cannot hide:
 * - the attacker's proxy: an HTTP proxy that records every connection made to it (a victim's traffic
 *   moved onto it, or an agent checking it as an upstream), answers requests "hijacked" and
 *   CONNECTs 502 (so an agent's claim-time check accepts it);
 * - the canary: a plain HTTP service on loopback that records every request (a page reached it).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Instrument {
  port: number;
  url: string;
  /** What reached it: one line per connection or request. */
  seen: string[];
  close(): Promise<void>;
}

async function listen(server: http.Server, seen: string[]): Promise<Instrument> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function startAttackerProxy(): Promise<Instrument> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('hijacked');
  });
  server.on('connection', () => seen.push('connection'));
  server.on('connect', (req: http.IncomingMessage, socket: Socket) => {
    seen.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
  });
  return listen(server, seen);
}

export function startCanary(): Promise<Instrument> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} origin=${req.headers.origin ?? '-'}`);
    // Readable by any origin: if a page reaches it, it can read this too.
    res
      .writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' })
      .end('canary reached');
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
    seen.push(`UPGRADE ${req.url}`);
    socket.destroy();
  });
  return listen(server, seen);
}
