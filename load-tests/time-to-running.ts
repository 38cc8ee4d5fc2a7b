/**
 * Benchmark: time from POST /v1/sessions to RUNNING, warm pool vs cold start, on the local stack.
 * Starts the whole service on a scratch database, runs N sessions one after another (create, poll
 * until RUNNING, release), and prints percentiles measured two ways: by the client (POST sent ->
 * first GET that shows RUNNING, polling every 2 ms) and by the server (transition timestamps).
 *
 *   node --import tsx load-tests/time-to-running.ts [--sessions 50] [--headless true|false]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../core/config/config.ts';
import { createLogger } from '../core/logging/logger.ts';
import { createApiKey, createWorkspace } from '../core/db/workspaces.repository.ts';
import { startStack } from '../cli/stack.ts';
import { percentiles, formatMs } from './stats.ts';

const { values } = parseArgs({
  options: { sessions: { type: 'string', default: '50' }, headless: { type: 'string', default: 'auto' } },
});
const N = Number(values.sessions);
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function scenario(label: string, minReady: number): Promise<void> {
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client(ADMIN_URL);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${name}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ventus-bench-'));
  const config = loadConfig({
    DATABASE_URL: dbUrl.toString(),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    PORT: '0',
    HOST: '127.0.0.1',
    VENTUS_REDIS_PREFIX: name,
    VENTUS_DATA_DIR: dataDir,
    VENTUS_POOL_MIN_READY: String(minReady),
    VENTUS_POOL_MAX_TOTAL: '6',
    VENTUS_HEADLESS: values.headless,
    VENTUS_LOG_LEVEL: 'error',
    VENTUS_RATE_LIMIT_PER_MINUTE: '10000000',
  });
  const stack = await startStack(
    config,
    { databaseUrl: dbUrl.toString(), redisUrl: config.redisUrl! },
    createLogger('error'),
  );
  (config as { publicUrl: string }).publicUrl = stack.url;
  const ws = await createWorkspace(stack.services.db, 'bench');
  const { apiKey } = await createApiKey(stack.services.db, ws.id, ['sessions:read', 'sessions:write']);
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const client: number[] = [];
  const server: number[] = [];
  try {
    for (let i = 0; i < N; i++) {
      // Let the controller refill the warm pool between sessions (a steady, not a burst, arrival).
      if (minReady > 0) {
        const deadline = Date.now() + 20_000;
        while (
          (await stack.services.pools.warmIds('us-east1-chromium')).length < minReady &&
          Date.now() < deadline
        ) {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      const t0 = performance.now();
      const created = (await fetch(`${stack.url}/v1/sessions`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': randomUUID() },
        body: '{}',
      }).then((r) => r.json())) as { id: string };
      for (;;) {
        const s = (await fetch(`${stack.url}/v1/sessions/${created.id}`, { headers }).then((r) =>
          r.json(),
        )) as {
          status: string;
        };
        if (s.status === 'RUNNING') break;
        if (s.status !== 'QUEUED' && s.status !== 'PROVISIONING')
          throw new Error(`session ended as ${s.status}`);
        await new Promise((r) => setTimeout(r, 2));
      }
      client.push(performance.now() - t0);
      const { rows } = await stack.services.db.query<{ ms: number }>(
        `SELECT extract(epoch FROM (t.at - s.created_at)) * 1000 AS ms FROM sessions s
           JOIN session_transitions t ON t.session_id = s.id AND t.to_status = 'RUNNING' WHERE s.id = $1`,
        [created.id],
      );
      server.push(Number(rows[0]!.ms));
      await fetch(`${stack.url}/v1/sessions/${created.id}`, {
        method: 'PATCH',
        headers,
        body: JSON.stringify({ status: 'REQUEST_RELEASE' }),
      });
    }
  } finally {
    await stack.close();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  }
  const c = percentiles(client);
  const s = percentiles(server);
  console.log(
    `${label.padEnd(6)} n=${N}  client POST->RUNNING p50 ${formatMs(c.p50)}  p95 ${formatMs(c.p95)}  max ${formatMs(c.max)}` +
      `  | server created->RUNNING p50 ${formatMs(s.p50)}  p95 ${formatMs(s.p95)}  max ${formatMs(s.max)}`,
  );
}

console.log(`time to RUNNING, local driver, ${os.cpus().length} cores, headless=${values.headless}`);
await scenario('warm', 3);
await scenario('cold', 0);
process.exit(0);
