/** A page served on 127.0.0.1 for browsers to open (tests never reach the internet). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalSite {
  url: string;
  /** The User-Agent header of every request seen. */
  userAgents: string[];
  close(): Promise<void>;
}

export async function serveLocalSite(): Promise<LocalSite> {
  const userAgents: string[] = [];
  const server = http.createServer((req, res) => {
    userAgents.push(req.headers['user-agent'] ?? '');
    if (req.url?.startsWith('/set-cookie')) {
      res.setHeader('Set-Cookie', 'secret_sid=abc123; Path=/; Max-Age=3600');
    }
    res.setHeader('Content-Type', 'text/html');
    res.end(
      '<!doctype html><html><head><title>Ventus test page</title></head><body><h1>hello</h1></body></html>',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    userAgents,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
