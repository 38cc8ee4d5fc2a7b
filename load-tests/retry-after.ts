/**
 * Benchmark: the Retry-After a full pool advertises against the wait a retrying client actually
 * needed. A pool of --max-total slots is held by 30-minute sessions that end early at random
 * (exponential, mean --mean-hold seconds, released by their owners); --clients callers keep asking
 * for a session. Each refusal's Retry-After (advertised, from the observed turnover) is recorded with
 * the same-run baseline (the earliest expires_at of the pool's sessions: what it advertised before),
 * and each caller's wait from its first refusal to its admission (polling every 100 ms) is measured.
 *
 *   node --import tsx load-tests/retry-after.ts [--max-total 5] [--clients 10] [--mean-hold 2]
 *       [--seconds 60]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { percentiles } from './stats.ts';
import { startScratchStack } from './scratch-stack.ts';

const { values } = parseArgs({
  options: {
    'max-total': { type: 'string', default: '5' },
    clients: { type: 'string', default: '10' },
    'mean-hold': { type: 'string', default: '2' },
    seconds: { type: 'string', default: '60' },
  },
});
const MAX_TOTAL = Number(values['max-total']);
const CLIENTS = Number(values.clients);
const MEAN_HOLD_MS = Number(values['mean-hold']) * 1000;
const DURATION_MS = Number(values.seconds) * 1000;

const bench = await startScratchStack({
  VENTUS_DRIVER: 'sim',
  VENTUS_POOL_MIN_READY: '0',
  VENTUS_POOL_MAX_TOTAL: String(MAX_TOTAL),
  VENTUS_WORKSPACE_MAX_LIVE_SESSIONS: '100000',
});
const { stack, headers } = bench;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const holdMs = () => -Math.log(1 - Math.random()) * MEAN_HOLD_MS;

const advertised: number[] = [];
const baseline: number[] = [];
const needed: number[] = [];
const end = Date.now() + DURATION_MS;

async function create(): Promise<{ id?: string; retryAfter?: number }> {
  const res = await fetch(`${stack.url}/v1/sessions`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': randomUUID() },
    body: JSON.stringify({ timeout_seconds: 1800 }),
  });
  const body = (await res.json()) as { id?: string };
  if (res.status === 202) return { id: body.id! };
  return { retryAfter: Number(res.headers.get('retry-after')) };
}

/** Holds a session for an exponential time, then releases it (the early end Retry-After should see). */
async function hold(id: string): Promise<void> {
  await sleep(holdMs());
  await fetch(`${stack.url}/v1/sessions/${id}`, {
    method: 'PATCH',
    headers,
    body: JSON.stringify({ status: 'REQUEST_RELEASE' }),
  });
}

/** The old advertisement: seconds until the earliest expires_at of the pool's live sessions. */
async function earliestExpirySeconds(): Promise<number> {
  const { rows } = await stack.services.db.query<{ s: number | null }>(
    `SELECT extract(epoch FROM min(expires_at) - now())::float AS s FROM sessions
      WHERE status IN ('QUEUED','PROVISIONING','RUNNING')`,
  );
  return Math.max(1, Math.ceil(rows[0]?.s ?? 1));
}

async function client(): Promise<void> {
  while (Date.now() < end) {
    let first = await create();
    if (first.id) {
      await hold(first.id);
      continue;
    }
    advertised.push(first.retryAfter!);
    baseline.push(await earliestExpirySeconds());
    const refusedAt = performance.now();
    while (!first.id && Date.now() < end) {
      await sleep(100);
      first = await create();
    }
    if (!first.id) return;
    needed.push((performance.now() - refusedAt) / 1000);
    await hold(first.id);
  }
}

await Promise.all(Array.from({ length: CLIENTS }, client));
await bench.close();

const row = (label: string, xs: number[]) => {
  const p = percentiles(xs);
  const f = (x: number) => x.toFixed(2).padStart(9);
  return `${label.padEnd(44)} ${String(xs.length).padStart(5)} ${f(p.p50)} ${f(p.p95)} ${f(p.p99)} ${f(p.max)}`;
};
process.stdout.write(
  [
    `retry-after: max_total ${MAX_TOTAL}, ${CLIENTS} clients, 30-min sessions released after exp(mean ${MEAN_HOLD_MS / 1000} s), ${DURATION_MS / 1000} s`,
    `${'seconds'.padEnd(44)} ${'n'.padStart(5)} ${'p50'.padStart(9)} ${'p95'.padStart(9)} ${'p99'.padStart(9)} ${'max'.padStart(9)}`,
    row('advertised Retry-After (observed turnover)', advertised),
    row('baseline: earliest expires_at (before)', baseline),
    row('wait a client polling every 100 ms needed', needed),
    '',
  ].join('\n'),
);
