/**
 * A page the harness serves on 127.0.0.1 for `lifecycle` browsers to open (no internet). Pods reach
 * it only because a scratch stack allow-lists its port (BENCH_PAGE_PORT): against another deployment,
 * add `127.0.0.1:<port>` (or where it runs) to that deployment's VENTUS_EGRESS_ALLOW.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const PAGE =
  '<!doctype html><html><head><title>Ventus load test</title></head><body><h1>load test page</h1></body></html>';

/**
 * VENTUS_BENCH_PAGE_PORT, default 28090: fixed, so a stack started before the page can allow it, and
 * below Linux's ephemeral ports (32768-60999): 47090 was among them, and a client socket that had
 * used it as its own port and closed first held it in TIME_WAIT for a minute (EADDRINUSE, twice in a
 * row on 7 December).
 */
export const BENCH_PAGE_PORT = Number(process.env.VENTUS_BENCH_PAGE_PORT ?? '28090');

export async function serveLocalPage(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.setHeader('cache-control', 'no-store');
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(BENCH_PAGE_PORT, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
