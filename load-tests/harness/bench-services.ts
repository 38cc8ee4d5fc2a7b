/**
 * What the benchmark scripts (`npm run bench`, `npm run bench:throughput`) share: Postgres and
 * Redis for their scratch stacks, and `ventus load` run in a process of its own.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { startEmbeddedRedis, type EmbeddedService } from '../../stack/embedded-services.ts';
import { startEmbeddedPostgres } from '../../stack/embedded-postgres.ts';
import { createLogger } from '../../core/logging/logger.ts';
import type { ReportFiles } from './write-report.ts';

const VENTUS = fileURLToPath(new URL('../../bin/ventus.js', import.meta.url));
const DEFAULT_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.setTimeout(2000, () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
    socket.once('connect', () => (socket.destroy(), resolve(true)));
  });
}

/**
 * Postgres and Redis for the scratch stacks: the machine's when they answer, else embedded ones
 * (as the test suite does), so a fresh clone needs only `npm install`. scratch-stack.ts reads
 * TEST_DATABASE_URL and REDIS_URL when it is loaded: import it after this resolves.
 */
export async function ensureServices(): Promise<EmbeddedService[]> {
  const log = createLogger('warn', { component: 'bench' });
  const started: EmbeddedService[] = [];
  if (!(await reachable(process.env.TEST_DATABASE_URL ?? DEFAULT_POSTGRES))) {
    const pg = await startEmbeddedPostgres('.ventus/bench', log);
    started.push(pg);
    process.env.TEST_DATABASE_URL = pg.url;
  }
  if (!(await reachable(process.env.REDIS_URL ?? DEFAULT_REDIS))) {
    const redis = await startEmbeddedRedis(log);
    started.push(redis);
    process.env.REDIS_URL = redis.url;
  }
  return started;
}

/** A `ventus load` run: its report files and the CPU the load generator itself used. */
export interface LoadRun<F> {
  files: F;
  cpuSeconds: number;
}

/**
 * `ventus load` in a process of its own: sharing the stack's event loop would make each slow the
 * other, and the figures would be the harness's as much as the service's.
 */
export async function ventusLoad<F = ReportFiles>(
  args: string[],
  env: Record<string, string> = {},
): Promise<LoadRun<F>> {
  const child = spawn(process.execPath, [VENTUS, 'load', ...args, '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`ventus load ${args.join(' ')} exited ${code}`);
  const printed = JSON.parse(stdout) as { files: F; loadGeneratorCpuSeconds: number };
  return { files: printed.files, cpuSeconds: printed.loadGeneratorCpuSeconds };
}
