/**
 * Where test pages listen: a few fixed ports per test worker, which every test stack allow-lists
 * (VENTUS_EGRESS_ALLOW takes exact host:port pairs; pods are started before a test's page server
 * is). Nothing else is allow-listed: the egress check stays on for everything else.
 */
import type { Server } from 'node:net';

const BASE = 47_100;
const PER_WORKER = 16;
const worker = Math.max(1, Number(process.env.VITEST_POOL_ID ?? '1') || 1);
const PORTS = Array.from({ length: PER_WORKER }, (_, i) => BASE + (worker - 1) * PER_WORKER + i);

/** VENTUS_EGRESS_ALLOW for this worker's page ports. */
export function pageEgressAllow(): string {
  return PORTS.map((p) => `127.0.0.1:${p}`).join(',');
}

/** Listens on the first free page port of this worker; resolves with it. */
export async function listenOnPagePort(server: Server): Promise<number> {
  for (const port of PORTS) {
    const ok = await new Promise<boolean>((resolve) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        server.off('listening', onListening);
        if (err.code === 'EADDRINUSE') resolve(false);
        else throw err;
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve(true);
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, '127.0.0.1');
    });
    if (ok) return port;
  }
  throw new Error(`every test page port of worker ${worker} is in use`);
}
