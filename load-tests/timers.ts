/**
 * Benchmark: timers at scale. 50,000 RUNNING sessions whose expiries are pending as BullMQ delayed
 * jobs (one per session, staggered over an hour, as 50,000 one-hour sessions would be), then:
 * - create latency (POST /v1/sessions, 4 concurrent clients) before and while they are pending;
 * - expiry lateness (EXPIRED transition time - expires_at) of every expiry due in the window.
 * Sim driver (the browser is not what is measured). The timer sessions live in a pool of their own,
 * so they take no room from the pool the creates use; the controller still reconciles both.
 *
 *   node --import tsx load-tests/timers.ts [--pending 50000] [--creates 500] [--window 90]
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { newId } from '../core/domain/ids.ts';
import { jobIds } from '../core/queue/jobs.ts';
import { percentiles, formatMs } from './stats.ts';
import { startScratchStack } from './scratch-stack.ts';

const { values } = parseArgs({
  options: {
    pending: { type: 'string', default: '50000' },
    creates: { type: 'string', default: '500' },
    window: { type: 'string', default: '90' },
  },
});
const PENDING = Number(values.pending);
const CREATES = Number(values.creates);
const WINDOW_S = Number(values.window);
const HORIZON_S = 3600;
const FIRST_DUE_S = 20;

const bench = await startScratchStack({
  VENTUS_DRIVER: 'sim',
  VENTUS_POOL_MIN_READY: '4',
  VENTUS_POOL_MAX_TOTAL: String(CREATES * 3),
});
const { stack, headers } = bench;
const { db, jobs } = stack.services;

/** Create latency with 4 clients; every session is released right after. */
async function measureCreates(): Promise<number[]> {
  const samples: number[] = [];
  let left = CREATES;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (left-- > 0) {
        const t0 = performance.now();
        const res = await fetch(`${stack.url}/v1/sessions`, {
          method: 'POST',
          headers: { ...headers, 'idempotency-key': randomUUID() },
          body: '{}',
        });
        samples.push(performance.now() - t0);
        const { id } = (await res.json()) as { id: string };
        if (res.status !== 202) throw new Error(`create answered ${res.status}`);
        await fetch(`${stack.url}/v1/sessions/${id}`, {
          method: 'PATCH',
          headers,
          body: JSON.stringify({ status: 'REQUEST_RELEASE' }),
        });
      }
    }),
  );
  return samples;
}

/** 50,000 RUNNING sessions in a pool of their own, each with its expire job pending. */
async function plantTimers(): Promise<{ firstDue: number; ids: string[] }> {
  await db.query(
    `INSERT INTO pools (name, region, runtime_kind, min_ready, max_total) VALUES ('us-east1-timers', 'us-east1', 'timers', 0, 1000000)`,
  );
  const { rows } = await db.query<{ id: string }>('SELECT id FROM workspaces LIMIT 1');
  const workspaceId = rows[0]!.id;
  const firstDue = Date.now() + FIRST_DUE_S * 1000;
  const ids = Array.from({ length: PENDING }, () => newId());
  const dues = ids.map((_, i) => firstDue + Math.floor((i * HORIZON_S * 1000) / PENDING));
  for (let i = 0; i < PENDING; i += 5000) {
    await db.query(
      `INSERT INTO sessions (id, workspace_id, pool, status, region, runtime_kind, timeout_seconds,
                             keep_alive_seconds, started_at, expires_at)
       SELECT id, $1, 'us-east1-timers', 'RUNNING', 'us-east1', 'timers', 3600, 60, now(), to_timestamp(due / 1000.0)
         FROM unnest($2::text[], $3::float8[]) AS t(id, due)`,
      [workspaceId, ids.slice(i, i + 5000), dues.slice(i, i + 5000)],
    );
  }
  for (let i = 0; i < PENDING; i += 500) {
    await Promise.all(
      ids.slice(i, i + 500).map((id, k) => {
        const due = dues[i + k]!;
        return jobs.enqueue(
          'expire',
          { sessionId: id },
          { jobId: jobIds.expire(id, due), delay: Math.max(0, due - Date.now()) },
        );
      }),
    );
  }
  return { firstDue, ids };
}

function line(label: string, samples: number[]): string {
  const p = percentiles(samples);
  return `${label} n=${samples.length}  p50 ${formatMs(p.p50)}  p95 ${formatMs(p.p95)}  p99 ${formatMs(p.p99)}  max ${formatMs(p.max)}`;
}

try {
  console.log(`timers at scale, sim driver, ${os.cpus().length} cores, ${PENDING} pending expiries`);
  await measureCreates(); // warm-up: JIT, connection pools
  const baseline = await measureCreates();
  const t0 = Date.now();
  const { firstDue } = await plantTimers();
  console.log(`planted ${PENDING} sessions and expire jobs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const counts = await stack.services.jobs.jobCounts();
  console.log(`queue depth while pending: ${JSON.stringify(counts)}`);
  const loaded = await measureCreates();
  console.log(line('create, baseline        ', baseline));
  console.log(line('create, 50k timers armed', loaded));
  const ratio = percentiles(loaded).p99 / percentiles(baseline).p99;
  console.log(`create p99 ratio (armed / baseline): ${ratio.toFixed(2)}`);

  const windowEnd = firstDue + WINDOW_S * 1000;
  await new Promise((r) => setTimeout(r, Math.max(0, windowEnd - Date.now()) + 3000));
  const { rows } = await db.query<{ late_ms: number }>(
    `SELECT extract(epoch FROM (t.at - s.expires_at)) * 1000 AS late_ms
       FROM sessions s JOIN session_transitions t ON t.session_id = s.id AND t.to_status = 'EXPIRED'
      WHERE s.pool = 'us-east1-timers' AND s.expires_at <= to_timestamp($1 / 1000.0)`,
    [windowEnd],
  );
  const due = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM sessions WHERE pool = 'us-east1-timers' AND expires_at <= to_timestamp($1 / 1000.0)`,
    [windowEnd],
  );
  const lateness = rows.map((r) => Number(r.late_ms));
  const within = lateness.filter((ms) => ms <= 1000).length;
  console.log(line(`expiry lateness (due in the first ${WINDOW_S} s)`, lateness));
  console.log(
    `expired ${lateness.length} of ${due.rows[0]!.n} due; within 1 s: ${((100 * within) / (due.rows[0]!.n || 1)).toFixed(2)} %`,
  );
} finally {
  await bench.close();
}
process.exit(0);
