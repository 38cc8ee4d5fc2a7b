/**
 * What one session lifecycle costs Postgres and Redis: every statement and Redis command the whole
 * service sends (API, workers, pool controller: one process here) for create → RUNNING (long-poll)
 * → release → teardown, on the sim driver, sessions one after another. The stack's background work
 * (timers, heartbeats, BullMQ's blocking waits) is measured over an idle window of the same length
 * and subtracted, so what remains is per lifecycle.
 *
 *   node --import tsx load-tests/lifecycle-io.ts [--sessions 200] [--out load-tests/results/lifecycle-io.md]
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { IoCounter, type IoCounts } from './harness/io-counter.ts';
import { HttpClient } from './harness/http-client.ts';
import { sessionLife } from './scenarios/session-life.ts';
import { startScratchStack } from './scratch-stack.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '200' },
    out: { type: 'string', default: 'load-tests/results/lifecycle-io.md' },
  },
});
const SESSIONS = Number(values.sessions);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const counter = new IoCounter().install();
const bench = await startScratchStack({
  VENTUS_DRIVER: 'sim',
  VENTUS_POOL_MIN_READY: '4',
  VENTUS_POOL_MAX_TOTAL: '64',
});
const own = new pg.Client(bench.stack.services.config.databaseUrl);
counter.exclude(own);
await own.connect();

/** Waits until no session is live and no BullMQ job is waiting, active or delayed-due. */
async function settled(): Promise<void> {
  for (;;) {
    const { rows } = await own.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sessions WHERE status NOT IN ('COMPLETED','EXPIRED','ERRORED')`,
    );
    if (rows[0]!.n === 0) return;
    await sleep(50);
  }
}

async function lifecycles(http: HttpClient, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const result = await sessionLife(http, () => {});
    if (result.outcome !== 'ok') throw new Error(`lifecycle-io: a lifecycle ended ${result.outcome}`);
  }
  await settled();
}

const perLifecycle = (busy: number, idle: number) => (busy - idle) / SESSIONS;

function rows(busy: Map<string, number>, idle: Map<string, number>): [string, number][] {
  const keys = new Set([...busy.keys(), ...idle.keys()]);
  return [...keys]
    .map((k): [string, number] => [k, perLifecycle(busy.get(k) ?? 0, idle.get(k) ?? 0)])
    .filter(([, v]) => Math.abs(v) >= 0.005)
    .sort((a, b) => b[1] - a[1]);
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

let busy: IoCounts;
let idle: IoCounts;
let seconds: number;
try {
  const http = new HttpClient(bench.stack.url, { authorization: bench.headers.authorization! });
  await lifecycles(http, 20); // warm: scripts loaded, pool full, statements prepared
  await sleep(2_000);
  counter.take();
  const t0 = performance.now();
  await lifecycles(http, SESSIONS);
  seconds = (performance.now() - t0) / 1000;
  busy = counter.take();
  await sleep(seconds * 1000);
  idle = counter.take();
} finally {
  await own.end();
  await bench.close();
}

const fmt = (v: number) => v.toFixed(2);
const out = [
  `# Postgres and Redis work per session lifecycle (sim driver)`,
  '',
  `${SESSIONS} lifecycles one after another (create → long-poll until RUNNING → release → teardown) in ` +
    `${seconds.toFixed(1)} s, minus an idle window as long. Per lifecycle: ` +
    `**${fmt(perLifecycle(total(busy.statements), total(idle.statements)))} Postgres statements**, ` +
    `**${fmt(perLifecycle(total(busy.redisCommands), total(idle.redisCommands)))} Redis commands** in ` +
    `**${fmt(perLifecycle(busy.redisRoundTrips, idle.redisRoundTrips))} round trips**.`,
  '',
  '| Postgres statement | per lifecycle |',
  '| --- | --- |',
  ...rows(busy.statements, idle.statements).map(([k, v]) => `| \`${k.replace(/\|/g, '\\|')}\` | ${fmt(v)} |`),
  '',
  '| Redis command (scripts by name) | per lifecycle |',
  '| --- | --- |',
  ...rows(busy.redisCommands, idle.redisCommands).map(([k, v]) => `| ${k} | ${fmt(v)} |`),
  '',
];
await writeFile(values.out, out.join('\n'));
process.stdout.write(`${out.join('\n')}\nwrote ${values.out}\n`);
process.exit(0);
