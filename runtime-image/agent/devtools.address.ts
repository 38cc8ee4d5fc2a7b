/**
 * Where the agent reaches its Chromium's DevTools: a port on 127.0.0.1 (the browser shares the
 * agent's network), or a unix socket bridged into the browser's own network namespace (the local
 * sandbox, browser.sandbox.ts), where Chromium listens on 127.0.0.1 of a network nothing else shares.
 */
import http from 'node:http';
import { connect, type Socket } from 'node:net';

export type DevtoolsAddress = { port: number } | { socketPath: string };

/** A WebSocket URL the `ws` library opens (`ws+unix:` for a socket). */
export function devtoolsWsUrl(address: DevtoolsAddress, path: string): string {
  return 'socketPath' in address
    ? `ws+unix://${address.socketPath}:${path}`
    : `ws://127.0.0.1:${address.port}${path}`;
}

/** A raw connection to DevTools (the relay speaks HTTP over it itself). */
export function connectDevtools(address: DevtoolsAddress): Socket {
  return 'socketPath' in address
    ? connect({ path: address.socketPath })
    : connect({ host: '127.0.0.1', port: address.port });
}

/** What to send as Host: Chromium accepts only an IP address or `localhost`. */
export function devtoolsHost(address: DevtoolsAddress): string {
  return 'socketPath' in address ? '127.0.0.1' : `127.0.0.1:${address.port}`;
}

/** Chromium's `/json/version`, or undefined when it does not answer within `timeoutMs`. */
export function fetchChromiumVersion(
  address: DevtoolsAddress,
  timeoutMs: number,
): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    const req = http.get(
      {
        ...('socketPath' in address
          ? { socketPath: address.socketPath }
          : { host: '127.0.0.1', port: address.port }),
        path: '/json/version',
        headers: { host: devtoolsHost(address) },
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => {
          if (res.statusCode !== 200) return resolve(undefined);
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
          } catch {
            resolve(undefined);
          }
        });
        res.once('error', () => resolve(undefined));
      },
    );
    req.once('error', () => resolve(undefined));
  });
}
