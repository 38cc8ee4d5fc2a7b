/**
 * Embedded defaults for `ventus up` on a bare machine: a Redis (127.0.0.1:6379 if one answers, else
 * `redis-server` from PATH on a free port) when REDIS_URL is unset. The embedded Postgres is in
 * embedded-postgres.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Logger } from '../core/logging/logger.ts';

export interface EmbeddedService {
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function answers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    // Redis answers PING with +PONG; anything else on 6379 is not ours to use.
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

export async function startEmbeddedRedis(log: Logger): Promise<EmbeddedService> {
  if (await answers('127.0.0.1', 6379)) {
    return { url: 'redis://127.0.0.1:6379', stop: async () => {} };
  }
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--hz', '100'],
      {
        stdio: 'ignore',
      },
    );
  } catch {
    throw new Error(
      'No Redis answers on 127.0.0.1:6379 and redis-server is not installed: set REDIS_URL or run `npm run setup`',
    );
  }
  const failed = new Promise<never>((_, reject) =>
    child.once('error', () =>
      reject(
        new Error(
          'No Redis answers on 127.0.0.1:6379 and redis-server could not start: set REDIS_URL or run `npm run setup`',
        ),
      ),
    ),
  );
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      if (await answers('127.0.0.1', port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('redis-server did not start within 5 s');
  })();
  await Promise.race([ready, failed]);
  log.info({ port }, 'started redis-server');
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
    },
  };
}
