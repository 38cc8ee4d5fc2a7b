/**
 * `npm run bench:throughput`: how many real-Chromium sessions per second the service sustains on
 * this machine, against what the machine can do without it, all in one run:
 *
 * 1. bare headless-shell starts per second (two at a time) and their CPU, the ceiling;
 * 2. the lifecycle a user runs without us (Playwright launches the headless shell, opens a page);
 * 3. our lifecycle (create → RUNNING → connectOverCDP → goto → release, `ventus load --scenario
 *    lifecycle`, open loop) at rising arrival rates on headless local pods, each on a fresh stack
 *    with a full pool: 503 %, warm hits, time to RUNNING and lifecycle percentiles, CPU per session;
 * 4. page loads through us against the same Chromium driven directly (load-tests/page-load.ts);
 * 5. the control plane's ceiling: `churn` (create → RUNNING → release) on the sim driver at rising
 *    rates.
 *
 * Written to load-tests/results/throughput.md with two plots of the sustained curve.
 *
 *   npm run bench:throughput [-- --seconds 60] [--rates 1,2,3,4,6,8] [--sim-rates 100,250,500,1000]
 *     [--sim-seconds 20] [--min-ready 8] [--max-total 24] [--idle-seconds 10]
 *     [--only bare,direct,sustained,page,sim]
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { poolName, updatePool, type PoolPatch } from '../core/db/pools.repository.ts';
import { bareStartRate, directLifecycles } from './harness/bare-chromium.ts';
import { ensureServices, ventusLoad } from './harness/bench-services.ts';
import { describeMachine, machine } from './harness/environment.ts';
import { serveLocalPage } from './harness/local-page.ts';
import { waitForWarm } from './harness/scratch-sessions.ts';
import { CpuGroup } from './harness/cpu-group.ts';
import { cpuBetween, cpuSnapshot, type CpuShares } from './harness/cpu-by-process.ts';
import type { Report } from './harness/report.ts';
import { formatMarkdown } from './harness/write-report.ts';
import { sustainedCharts, type RatePoint } from './throughput.plots.ts';
import {
  bareSection,
  directSection,
  headerSection,
  ms,
  pageSection,
  pct,
  simSection,
  sustainedSection,
} from './throughput.report.ts';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const PAGE_LOAD = fileURLToPath(new URL('./page-load.ts', import.meta.url));

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    rates: { type: 'string', default: '1,2,3,4,6,8' },
    'sim-rates': { type: 'string', default: '100,250,500,1000' },
    'sim-seconds': { type: 'string', default: '20' },
    'min-ready': { type: 'string', default: '8' },
    'max-total': { type: 'string', default: '24' },
    'bare-starts': { type: 'string', default: '60' },
    'idle-seconds': { type: 'string', default: '10' },
    only: { type: 'string' },
  },
});
const numbers = (flag: string, text: string) => {
  const list = text.split(',').map(Number);
  if (list.some((n) => !(n > 0))) throw new Error(`--${flag} ${text}: expected numbers above 0`);
  return list;
};
const SECONDS = numbers('seconds', values.seconds)[0]!;
const RATES = numbers('rates', values.rates);
const SIM_RATES = numbers('sim-rates', values['sim-rates']);
const SIM_SECONDS = numbers('sim-seconds', values['sim-seconds'])[0]!;
const MIN_READY = numbers('min-ready', values['min-ready'])[0]!;
const MAX_TOTAL = numbers('max-total', values['max-total'])[0]!;
const BARE_STARTS = numbers('bare-starts', values['bare-starts'])[0]!;
const IDLE_SECONDS = numbers('idle-seconds', values['idle-seconds'])[0]!;
const ONLY = values.only?.split(',');
const wanted = (part: string) => !ONLY || ONLY.includes(part);

const log = (line: string) => process.stderr.write(`throughput: ${line}\n`);

interface Observed {
  sum: number;
  count: number;
}

/** The sum and count of a stack histogram's observations, per value of `label`. */
async function observedBy(
  histogram: { get(): Promise<{ values: Array<{ metricName?: string; labels: object; value: number }> }> },
  label: string,
): Promise<Record<string, Observed>> {
  const byValue: Record<string, Observed> = {};
  for (const s of (await histogram.get()).values) {
    const part = s.metricName?.endsWith('_count')
      ? 'count'
      : s.metricName?.endsWith('_sum')
        ? 'sum'
        : undefined;
    if (!part) continue;
    const key = String((s.labels as Record<string, unknown>)[label]);
    byValue[key] ??= { sum: 0, count: 0 };
    byValue[key][part] += s.value;
  }
  return byValue;
}

/**
 * What the stack recorded on the way to RUNNING: claims by kind (warm, cold), and the time to
 * RUNNING with two of its parts, the provision job's wait in the queue and the claim on the pod.
 */
async function provisioning(bench: ScratchStack) {
  const { metrics } = bench.stack.services;
  const toRunning = await observedBy(metrics.timeToRunningSeconds, 'kind');
  return {
    toRunning,
    queueWait: (await observedBy(metrics.jobWaitSeconds, 'job')).provision ?? { sum: 0, count: 0 },
    claim: Object.values(await observedBy(metrics.claimSeconds, 'kind')),
  };
}

const total = (list: Observed[]): Observed =>
  list.reduce((a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }), { sum: 0, count: 0 });
/** The mean in ms of what was observed between two readings. */
const meanMs = (before: Observed, after: Observed) =>
  after.count > before.count ? ((after.sum - before.sum) / (after.count - before.count)) * 1000 : null;

/** One open-loop run of `scenario` on a fresh stack whose pool is full before the first arrival. */
async function ratePoint(
  scenario: 'lifecycle' | 'churn',
  rate: number,
  seconds: number,
  env: Record<string, string>,
  warm: number,
  patch: PoolPatch = {},
): Promise<RatePoint> {
  const bench = await startScratchStack(env);
  try {
    const { services } = bench.stack;
    await updatePool(services.db, poolName(services.config.pool.region, 'chromium'), patch);
    await waitForWarm(bench, warm);
    // What the full pool costs standing ready, before the first arrival.
    const idle0 = cpuSnapshot(cpuGroup);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idleCpuPerSecond = scaled(cpuBetween(idle0, cpuSnapshot(cpuGroup)), 1 / IDLE_SECONDS);
    const before = await provisioning(bench);
    const cpu0 = cpuSnapshot(cpuGroup);
    const run = await ventusLoad([
      ...['--target', bench.stack.url, '--scenario', scenario, '--rate', String(rate)],
      ...['--duration', String(seconds), '--concurrency', String(Math.max(64, rate * 4))],
      ...['--out', RESULTS, '--name', `throughput-${scenario}-${rate}`, '--page-url', site.url],
      ...[
        '--api-key',
        bench.headers.authorization!.replace(/^Bearer /, ''),
        '--driver-label',
        env.VENTUS_DRIVER!,
      ],
    ]);
    const cpu = cpuBetween(cpu0, cpuSnapshot(cpuGroup), run.cpuSeconds);
    const after = await provisioning(bench);
    const report = JSON.parse(await readFile(run.files.json, 'utf8')) as Report;
    const { summary } = report;
    const ok = summary.outcomes.ok ?? 0;
    const claimed = (k: string) => (after.toRunning[k]?.count ?? 0) - (before.toRunning[k]?.count ?? 0);
    const claims = claimed('warm') + claimed('cold');
    return {
      rate,
      arrivals: summary.scheduled,
      refused: (summary.outcomes['503'] ?? 0) / Math.max(1, summary.scheduled),
      errors: summary.errors,
      warmShare: claims > 0 ? claimed('warm') / claims : null,
      toRunning: summary.steps.to_running!,
      lifecycle: summary.latencyByOutcome.ok ?? summary.latency,
      create: summary.steps.create!,
      toRunningParts: {
        total: meanMs(total(Object.values(before.toRunning)), total(Object.values(after.toRunning))),
        queueWait: meanMs(before.queueWait, after.queueWait),
        claim: meanMs(total(before.claim), total(after.claim)),
      },
      cpuSecondsPerSession: cpu.machine / Math.max(1, ok),
      cpuPerSession: scaled(cpu, 1 / Math.max(1, ok)),
      idleCpuPerSecond,
    };
  } finally {
    await bench.close();
  }
}

const scaled = (shares: CpuShares, factor: number): CpuShares =>
  Object.fromEntries(Object.entries(shares).map(([k, v]) => [k, v * factor])) as unknown as CpuShares;

const services = await ensureServices();
// After the databases, which stay outside: everything started from here on is counted (pods, load generators).
const cpuGroup = CpuGroup.open('ventus-throughput');
// Imported after the variables are set: it reads them when loaded.
const { startScratchStack } = await import('./scratch-stack.ts');
type ScratchStack = Awaited<ReturnType<typeof startScratchStack>>;
// One page for every lifecycle here (ventus load gets it as --page-url); page-load.ts serves its own
// on the same port, so this one closes before it runs.
const site = await serveLocalPage();
let siteOpen = true;
const closeSite = async () => {
  if (siteOpen) await site.close();
  siteOpen = false;
};
const out = headerSection(describeMachine(machine()), process.argv.slice(2));
try {
  let bareRate: number | undefined;
  if (wanted('bare')) {
    const bare = await bareStartRate(BARE_STARTS, 2);
    bareRate = bare.perSecond;
    log(`bare headless shell: ${bare.perSecond.toFixed(1)} starts/s`);
    out.push(...bareSection(bare));
  }
  let directP50: number | undefined;
  if (wanted('direct')) {
    const direct = await directLifecycles(site.url, 20);
    directP50 = direct.p50;
    log(`direct lifecycle p50 ${ms(direct.p50)}`);
    out.push(...directSection(direct));
  }
  if (wanted('sustained')) {
    const env = {
      VENTUS_DRIVER: 'local',
      VENTUS_HEADLESS: 'true',
      VENTUS_POOL_MIN_READY: String(MIN_READY),
      VENTUS_POOL_MAX_TOTAL: String(MAX_TOTAL),
    };
    const points: RatePoint[] = [];
    for (const rate of RATES) {
      const point = await ratePoint('lifecycle', rate, SECONDS, env, MIN_READY);
      points.push(point);
      log(`lifecycle at ${rate}/s: 503 ${pct(point.refused)}, to RUNNING p99 ${ms(point.toRunning.p99)}`);
      // Past saturation every further rate only refuses more: stop there.
      if (point.refused > 0.5) break;
    }
    const files = sustainedCharts(points, RESULTS, 'throughput');
    await Promise.all(files.map((f) => writeFile(f.path, f.svg)));
    out.push(
      ...sustainedSection({
        points,
        minReady: MIN_READY,
        maxTotal: MAX_TOTAL,
        seconds: SECONDS,
        idleSeconds: IDLE_SECONDS,
        cgroup: cpuGroup !== undefined,
        bareRate,
        directP50,
        files,
      }),
    );
  }
  if (wanted('page')) {
    log('page loads');
    await closeSite();
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      PAGE_LOAD,
      '--loads',
      '60',
    ]);
    out.push(...pageSection(stdout));
  }
  if (wanted('sim')) {
    const env = { VENTUS_DRIVER: 'sim', VENTUS_POOL_MIN_READY: '64', VENTUS_POOL_MAX_TOTAL: '5000' };
    const points: RatePoint[] = [];
    for (const rate of SIM_RATES) {
      // Sim pods start in 50 ms: up to 256 at once keeps the pool's refill from being the limit.
      const point = await ratePoint('churn', rate, SIM_SECONDS, env, 64, { maxStarting: 256 });
      points.push(point);
      log(
        `churn (sim) at ${rate}/s: create p99 ${ms(point.create.p99)}, lifecycle p99 ${ms(point.lifecycle.p99)}`,
      );
    }
    out.push(...simSection(points, SIM_SECONDS));
  }
  const file = path.join(RESULTS, 'throughput.md');
  await writeFile(file, await formatMarkdown(out.join('\n')));
  process.stdout.write(`${out.join('\n')}\n`);
  log(`wrote ${path.relative(process.cwd(), file)}`);
} finally {
  await closeSite();
  await cpuGroup?.close();
  for (const s of services.reverse()) await s.stop();
}
process.exit(0);
