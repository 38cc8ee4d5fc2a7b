/**
 * The whole service on a scratch database and Redis prefix, for benchmarks: started in-process,
 * with an API key, and removed (database, Redis keys, pods) when the benchmark ends.
 */
import { BENCH_PAGE_PORT } from './harness/local-page.ts';
import { randomBytes } from 'node:crypto';
import { PodAgentAccess } from '../core/runtime/agent.client.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadConfig } from '../core/config/config.ts';
import { createLogger } from '../core/logging/logger.ts';
import { createApiKey, createWorkspace } from '../core/db/workspaces.repository.ts';
import type { Scope } from '../core/domain/scopes.ts';
import { startStack, type Stack } from '../stack/stack.ts';
import { LocalDriver } from '../core/runtime/local.driver.ts';
import { stopSimServer } from '../core/runtime/sim/sim-server.launcher.ts';

export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface ScratchStack {
  stack: Stack;
  /** Request headers with the benchmark's API key (sessions:read, sessions:write, or `scopes`). */
  headers: Record<string, string>;
  close(): Promise<void>;
}

/**
 * `env` adds VENTUS_* settings (pool size, driver, headless…) to the scratch defaults; `scopes`
 * replaces the key's (`operator` for pool-sweep, which changes pool settings).
 */
export async function startScratchStack(
  env: Record<string, string>,
  scopes: Scope[] = ['sessions:read', 'sessions:write'],
): Promise<ScratchStack> {
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client(ADMIN_URL);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${name}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ventus-bench-'));
  const config = loadConfig({
    DATABASE_URL: dbUrl.toString(),
    REDIS_URL,
    PORT: '0',
    HOST: '127.0.0.1',
    VENTUS_REDIS_PREFIX: name,
    VENTUS_DATA_DIR: dataDir,
    VENTUS_LOG_LEVEL: 'error',
    VENTUS_RATE_LIMIT_PER_MINUTE: '10000000',
    // A benchmark measures the service, not the per-workspace limit of live sessions.
    VENTUS_WORKSPACE_MAX_LIVE_SESSIONS: '100000',
    // The harness's page (harness/local-page.ts) is the only loopback address pods may reach.
    VENTUS_EGRESS_ALLOW: `127.0.0.1:${BENCH_PAGE_PORT}`,
    // VENTUS_KERNEL_RELAY=false <benchmark>: the proxy and the agents relay CDP in Node (a "before").
    VENTUS_KERNEL_RELAY: process.env.VENTUS_KERNEL_RELAY ?? '',
    ...env,
  });
  const stack = await startStack(
    config,
    { databaseUrl: dbUrl.toString(), redisUrl: REDIS_URL },
    createLogger('error'),
  );
  (config as { publicUrl: string }).publicUrl = stack.url;
  const ws = await createWorkspace(stack.services.db, 'bench');
  const { apiKey } = await createApiKey(stack.services.db, ws.id, scopes);
  return {
    stack,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    async close() {
      await stack.close();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${name}:*`);
      for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
      redis.disconnect();
      // `ventus up` leaves held pods running on shutdown (they serve their sessions across a
      // restart); a scratch stack's data dir goes, so every pod in it goes first.
      const podsDir = path.join(dataDir, 'pods');
      const driver = new LocalDriver({
        stateDir: podsDir,
        agentAccess: new PodAgentAccess(randomBytes(32).toString('hex')),
        egress: { allow: [], allowPrivate: false },
      });
      await driver.removeAllPods();
      await driver.close();
      await stopSimServer(path.join(dataDir, 'sim')).catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Where this run's CDP bytes move: printed by the benchmarks that measure the data path. */
export const cdpRelays = (): string =>
  `CDP relays of the proxy and the agent: ${process.env.VENTUS_KERNEL_RELAY === 'false' ? 'in Node (VENTUS_KERNEL_RELAY=false)' : 'kernel'}`;
