/**
 * Benchmark: time from POST /v1/sessions to RUNNING, warm pool vs cold start, on the local stack.
 * Starts the whole service on a scratch database, runs N sessions (create, poll until RUNNING,
 * release) one after another, or with --rate R as open-loop arrivals at R per second, and prints
 * percentiles measured two ways: by the client (POST sent -> first GET that shows RUNNING, polling
 * every 2 ms) and by the server (transition timestamps).
 *
 *   node --import tsx load-tests/time-to-running.ts [--sessions 50] [--headless true|false]
 *       [--rate 20 --min-ready 8 --max-total 24] [--only warm|cold]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { percentiles, formatMs } from './stats.ts';
import { startScratchStack } from './scratch-stack.ts';
import { postSession, waitForWarm } from './harness/scratch-sessions.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '50' },
    headless: { type: 'string', default: 'auto' },
    rate: { type: 'string', default: '0' },
    'min-ready': { type: 'string', default: '3' },
    'max-total': { type: 'string', default: '6' },
    only: { type: 'string' },
  },
});
const N = Number(values.sessions);
const RATE = Number(values.rate);

async function scenario(label: string, minReady: number): Promise<void> {
  const bench = await startScratchStack({
    VENTUS_POOL_MIN_READY: String(minReady),
    VENTUS_POOL_MAX_TOTAL: values['max-total'],
    VENTUS_HEADLESS: values.headless,
  });
  const { stack, headers } = bench;
  const client: number[] = [];
  const server: number[] = [];
  let full = 0;
  // Looks every 20 ms, so that the next session starts as soon as the pool has refilled.
  const waitForWarmPool = () => waitForWarm(bench, minReady, { timeoutMs: 30_000, pollMs: 20 });
  /** One session: create, poll until RUNNING, record both figures, release. */
  const one = async () => {
    const t0 = performance.now();
    const res = await postSession(bench);
    if (res.status === 503) {
      // The pool was full (arrivals outran the pods): counted, not timed.
      await res.body?.cancel();
      full += 1;
      return;
    }
    const created = (await res.json()) as { id: string };
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
  };
  try {
    if (RATE > 0) {
      // Open loop: arrival i starts at t0 + i / rate whatever the earlier ones are doing.
      await waitForWarmPool();
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: N }, async (_, i) => {
          const wait = t0 + (i * 1000) / RATE - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          await one();
        }),
      );
    }
    for (let i = 0; RATE <= 0 && i < N; i++) {
      // Let the controller refill the warm pool between sessions (a steady, not a burst, arrival).
      if (minReady > 0) await waitForWarmPool();
      await one();
    }
  } finally {
    await bench.close();
  }
  const c = percentiles(client);
  const s = percentiles(server);
  console.log(
    `${label.padEnd(6)} n=${client.length}${RATE > 0 ? ` at ${RATE}/s (503: ${full})` : ''}  client POST->RUNNING p50 ${formatMs(c.p50)}  p95 ${formatMs(c.p95)}  p99 ${formatMs(c.p99)}  max ${formatMs(c.max)}` +
      `  | server created->RUNNING p50 ${formatMs(s.p50)}  p95 ${formatMs(s.p95)}  p99 ${formatMs(s.p99)}  max ${formatMs(s.max)}`,
  );
}

console.log(`time to RUNNING, local driver, ${os.cpus().length} cores, headless=${values.headless}`);
if (values.only !== 'cold') await scenario('warm', Number(values['min-ready']));
if (values.only !== 'warm') await scenario('cold', 0);
process.exit(0);
