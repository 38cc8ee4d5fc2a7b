/**
 * Runs the real `ventus pools` CLI against a test database and Redis prefix: a pool `us-east1-chromium`
 * (min_ready 0, max_total 5) and a second pool `eu-west1-chromium` whose traffic tests seed.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { TestContext } from './test-context.ts';
import { RedisKeys } from '../../core/redis/keys.ts';
import { openPoolStores, type PoolStores } from '../../core/redis/pool-stores.ts';
import { seedPool } from '../../core/db/pools.repository.ts';

const run = promisify(execFile);
const VENTUS = fileURLToPath(new URL('../../bin/ventus.js', import.meta.url));
export const POOL = 'us-east1-chromium';
/** A second pool whose traffic the advise test seeds. */
export const OBSERVED = 'eu-west1-chromium';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PoolJson {
  name: string;
  min_ready: number;
  max_total: number;
  max_starting: number | null;
  status: Record<string, number | null>;
}

/** The one JSON document a `--json` run prints. */
export function document<T>(out: Ran): T {
  expect(out.code, out.stderr).toBe(0);
  expect(out.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(out.stdout) as T;
}

export interface PoolsCli {
  ctx: TestContext;
  env: NodeJS.ProcessEnv;
  redis: Redis;
  pools: PoolStores;
  keys: RedisKeys;
  ventus(...args: string[]): Promise<Ran>;
  /** Runs each command, expecting exit 2, nothing on stdout and the message on stderr. */
  expectRefusals(refusals: [args: string[], stderr: string][]): Promise<void>;
}

/** Registers the setup and teardown of a test file; the fields are set once beforeAll ran. */
export function usePoolsCli(): PoolsCli {
  const h = {
    async ventus(...args: string[]): Promise<Ran> {
      try {
        const { stdout, stderr } = await run('node', [VENTUS, 'pools', ...args], { env: h.env });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    },
    async expectRefusals(refusals: [args: string[], stderr: string][]): Promise<void> {
      for (const [args, stderr] of refusals) {
        const out = await h.ventus(...args);
        expect(out.code, args.join(' ')).toBe(2);
        expect(out.stdout).toBe('');
        expect(out.stderr).toContain(stderr);
      }
    },
  } as PoolsCli;
  beforeAll(async () => {
    h.ctx = await TestContext.create({ minReady: 0, maxTotal: 5 });
    h.env = {
      ...process.env,
      DATABASE_URL: h.ctx.databaseUrl,
      REDIS_URL: h.ctx.redisUrl,
      VENTUS_REDIS_PREFIX: h.ctx.name,
      VENTUS_LOG_LEVEL: 'warn',
    };
    h.redis = new Redis(h.ctx.redisUrl);
    h.keys = new RedisKeys(h.ctx.name);
    h.pools = openPoolStores(h.redis, h.keys);
    await seedPool(h.ctx.db, { region: 'eu-west1', runtimeKind: 'chromium', minReady: 1, maxTotal: 4 });
  });
  afterAll(async () => {
    h.redis?.disconnect();
    await h.ctx?.close();
  });
  return h;
}
