/**
 * A tiny authenticating HTTP forward proxy on 127.0.0.1 (a user's upstream proxy, for tests): plain
 * requests with absolute URLs and CONNECT tunnels, Basic credentials required (407 otherwise). It
 * records every request it saw with the Proxy-Authorization it carried.
 */
import http, { type IncomingMessage } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface SeenRequest {
  method: string;
  /** The absolute URL of a plain request, `host:port` of a CONNECT. */
  target: string;
  proxyAuthorization: string | undefined;
  /** Whether the credentials were right (the request was forwarded). */
  accepted: boolean;
}

export interface AuthProxy {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

export async function startAuthProxy(username: string, password: string): Promise<AuthProxy> {
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const seen: SeenRequest[] = [];
  const sockets = new Set<Duplex>();
  const record = (req: IncomingMessage): boolean => {
    const accepted = req.headers['proxy-authorization'] === expected;
    seen.push({
      method: req.method ?? '',
      target: req.url ?? '',
      proxyAuthorization: req.headers['proxy-authorization'],
      accepted,
    });
    return accepted;
  };

  const server = http.createServer((req, res) => {
    if (!record(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end('credentials required');
      return;
    }
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const out = http.request(
      {
        host: target.hostname,
        port: target.port || 80,
        path: target.pathname + target.search,
        method: req.method,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.writeHead(502).end());
    req.pipe(out);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('error', () => client.destroy());
    client.once('close', () => sockets.delete(client));
    if (!record(req)) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\ncontent-length: 0\r\n\r\n',
      );
      return;
    }
    const [host, port] = (req.url ?? '').split(/:(?=\d+$)/);
    const out = net.connect(Number(port), host ?? '');
    sockets.add(out);
    out.once('close', () => sockets.delete(out));
    out.once('error', () => {
      client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
      out.destroy();
    });
    out.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      out.write(head);
      out.pipe(client).on('error', () => undefined);
      client.pipe(out);
      out.once('close', () => client.destroy());
      client.once('close', () => out.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
