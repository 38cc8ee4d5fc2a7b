/**
 * Noisy neighbours: what tenants' pages spinning the CPU do to everybody else's sessions, with the
 * pods at the service's own CPU priority (VENTUS_POD_NICENESS=0) and at the default (10), in one run.
 *
 * Each configuration is a fresh stack (local driver, headless pods, full pool). `--hogs` sessions are
 * claimed first; each opens the harness's page over CDP and starts `--workers` Web Workers that loop
 * forever (more spinning threads than the machine has cores). Then `ventus load --scenario lifecycle`
 * runs open loop at `--rate` for `--seconds`: create, time to RUNNING and the whole lifecycle are what
 * another tenant sees. A configuration with no hogs is the reference. `--rounds` repeats the
 * configurations interleaved.
 *
 *   node --import tsx load-tests/noisy-neighbour.ts [--hogs 2] [--workers 2] [--rate 1] [--seconds 30]
 *     [--rounds 2] [--niceness 0,10]
 *
 * Written to load-tests/results/noisy-neighbour.md.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureServices, ventusLoad } from './harness/bench-services.ts';
import { CdpClient } from './harness/cdp-client.ts';
import { describeMachine, machine } from './harness/environment.ts';
import { serveLocalPage } from './harness/local-page.ts';
import { runningSession, waitForWarm } from './harness/scratch-sessions.ts';
import { busySeconds } from './harness/machine-cpu.ts';
import type { Report } from './harness/report.ts';
import { formatMarkdown } from './harness/write-report.ts';
import { ms, pct } from './throughput.report.ts';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const { values } = parseArgs({
  options: {
    hogs: { type: 'string', default: '2' },
    workers: { type: 'string', default: '2' },
    rate: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '2' },
    niceness: { type: 'string', default: '0,10' },
  },
});
const HOGS = Number(values.hogs);
const WORKERS = Number(values.workers);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const NICENESS = values.niceness.split(',').map(Number);
const POOL = { min: HOGS + 6, max: HOGS + 12 };
const log = (line: string) => process.stderr.write(`noisy-neighbour: ${line}\n`);

await ensureServices();
// Imported after the variables are set: it reads them when loaded.
const { startScratchStack } = await import('./scratch-stack.ts');
type ScratchStack = Awaited<ReturnType<typeof startScratchStack>>;
const site = await serveLocalPage();

/** A session whose page runs `WORKERS` workers that spin forever. */
async function startHog(bench: ScratchStack): Promise<CdpClient> {
  const session = await runningSession(bench, { keep_alive_seconds: 600, timeout_seconds: 3600 });
  const cdp = await CdpClient.connect(session.connect_url);
  const { targetId } = await cdp.call<{ targetId: string }>('Target.createTarget', { url: site.url });
  const { sessionId } = await cdp.call<{ sessionId: string }>('Target.attachToTarget', {
    targetId,
    flatten: true,
  });
  // Wait for the page's own document (blob: workers need its origin).
  for (let i = 0; i < 100; i++) {
    const { result } = await cdp.call<{ result: { value: string } }>(
      'Runtime.evaluate',
      { expression: 'location.href', returnByValue: true },
      sessionId,
    );
    if (result.value.startsWith('http')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await cdp.call(
    'Runtime.evaluate',
    {
      expression: `for (let i = 0; i < ${WORKERS}; i++) new Worker(URL.createObjectURL(new Blob(['for (;;) {}'])))`,
    },
    sessionId,
  );
  return cdp;
}

interface Point {
  niceness: number;
  hogs: number;
  round: number;
  arrivals: number;
  refused: number;
  errors: number;
  create: { p50: number | null; p99: number | null };
  toRunning: { p50: number | null; p99: number | null };
  lifecycle: { p50: number | null; p99: number | null };
  /** Of the machine's two cores over the run. */
  busy: number;
}

async function measure(niceness: number, hogs: number, round: number): Promise<Point> {
  const bench = await startScratchStack({
    VENTUS_DRIVER: 'local',
    VENTUS_HEADLESS: 'true',
    VENTUS_POD_NICENESS: String(niceness),
    VENTUS_POOL_MIN_READY: String(POOL.min),
    VENTUS_POOL_MAX_TOTAL: String(POOL.max),
  });
  const hogClients: CdpClient[] = [];
  try {
    await waitForWarm(bench, POOL.min);
    for (let i = 0; i < hogs; i++) hogClients.push(await startHog(bench));
    // The pool refills what the hogs claimed before the first arrival.
    await waitForWarm(bench, POOL.min);
    const busy0 = busySeconds();
    const t0 = Date.now();
    const run = await ventusLoad([
      ...['--target', bench.stack.url, '--scenario', 'lifecycle', '--rate', String(RATE)],
      ...['--duration', String(SECONDS), '--concurrency', '64', '--page-url', site.url],
      ...['--out', RESULTS, '--name', `noisy-neighbour-${niceness}-${hogs}`],
      ...['--api-key', bench.headers.authorization!.replace(/^Bearer /, ''), '--driver-label', 'local'],
    ]);
    const busy = (busySeconds() - busy0) / ((Date.now() - t0) / 1000) / 2;
    const { summary } = JSON.parse(await readFile(run.files.json, 'utf8')) as Report;
    const pick = (s: { p50: number | null; p99: number | null } | undefined) => ({
      p50: s?.p50 ?? null,
      p99: s?.p99 ?? null,
    });
    return {
      niceness,
      hogs,
      round,
      arrivals: summary.scheduled,
      refused: (summary.outcomes['503'] ?? 0) / Math.max(1, summary.scheduled),
      errors: summary.errors,
      create: pick(summary.steps.create),
      toRunning: pick(summary.steps.to_running),
      lifecycle: pick(summary.latencyByOutcome.ok),
      busy,
    };
  } finally {
    for (const c of hogClients) await c.close().catch(() => undefined);
    await bench.close();
  }
}

const points: Point[] = [];
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [niceness, hogs] of [
      ...NICENESS.map((n) => [n, HOGS] as const),
      [NICENESS.at(-1)!, 0] as const,
    ]) {
      const p = await measure(niceness, hogs, round);
      points.push(p);
      log(
        `round ${round}, niceness ${niceness}, ${hogs} hogs: create p99 ${ms(p.create.p99)}, to RUNNING p50/p99 ${ms(p.toRunning.p50)}/${ms(p.toRunning.p99)}, lifecycle p50 ${ms(p.lifecycle.p50)}`,
      );
    }
  }
} finally {
  await site.close();
}

const out = [
  '# Noisy neighbours: tenants spinning the CPU against everybody else',
  '',
  describeMachine(machine()),
  '',
  `\`node --import tsx load-tests/noisy-neighbour.ts ${process.argv.slice(2).join(' ')}\``,
  '',
  `Each row is a fresh stack (local driver, headless pods, pool ${POOL.min}/${POOL.max}). "hogs": sessions whose page runs ${WORKERS} Web Workers looping forever, claimed before the run. Then \`ventus load --scenario lifecycle\` at ${RATE}/s for ${SECONDS} s (create → long-poll until RUNNING → \`connectOverCDP\` → \`goto\` → release): what another tenant sees. Busy: the machine's CPU over the run, of its two cores.`,
  '',
  '| round | pod niceness | hogs | n | 503s | errors | create p50 / p99 | time to RUNNING p50 / p99 | lifecycle p50 / p99 | busy |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...points.map(
    (p) =>
      `| ${p.round} | ${p.niceness} | ${p.hogs} | ${p.arrivals} | ${pct(p.refused)} | ${p.errors} | ${ms(p.create.p50)} / ${ms(p.create.p99)} | ${ms(p.toRunning.p50)} / ${ms(p.toRunning.p99)} | ${ms(p.lifecycle.p50)} / ${ms(p.lifecycle.p99)} | ${pct(p.busy)} |`,
  ),
];
const file = path.join(RESULTS, 'noisy-neighbour.md');
await writeFile(file, await formatMarkdown(out.join('\n')));
process.stdout.write(`${out.join('\n')}\n`);
log(`wrote ${path.relative(process.cwd(), file)}`);
process.exit(0);
