/**
 * A TCP port free on 127.0.0.1 right now, for a child process to listen on later.
 *
 * Taken from below the kernel's ephemeral range, never from it: a port the kernel hands out for
 * `listen(0)` or an outgoing connection (Chromium's DevTools port, any client socket) can be taken
 * again by anyone between this check and the child's listen. CI once saw a pod's Chromium get the
 * DevTools port that the test had just picked for the pod's agent.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';

const LOWEST = 20_000;

/** The first port of the kernel's ephemeral range (32768 where /proc does not say). */
function ephemeralStart(): number {
  try {
    const first = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    return Number.isInteger(first) && first > LOWEST + 1000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

async function bindable(port: number): Promise<boolean> {
  const server = net.createServer();
  try {
    server.listen(port, '127.0.0.1');
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([err]) => Promise.reject(err as Error)),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

export async function freePort(): Promise<number> {
  const span = ephemeralStart() - LOWEST;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * span);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 between ${LOWEST} and ${LOWEST + span}`);
}
