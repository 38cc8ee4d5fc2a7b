/** The Markdown of `npm run bench:throughput` (load-tests/throughput.ts): its sections and tables. */
import path from 'node:path';
import type { BareStarts } from './harness/bare-chromium.ts';
import { CPU_PARTS, type CpuShares } from './harness/cpu-by-process.ts';
import type { Percentiles } from './stats.ts';
import type { RatePoint } from './throughput.plots.ts';

/** The targets of a sustained rate: under 1 % 503s, time to RUNNING p99 at most 100 ms. */
const MAX_REFUSED = 0.01;
const MAX_TO_RUNNING_P99_MS = 100;

export const ms = (v: number | null | undefined) =>
  v === null || v === undefined
    ? '–'
    : v < 1000
      ? `${v.toFixed(v < 10 ? 1 : 0)} ms`
      : `${(v / 1000).toFixed(2)} s`;
export const pct = (v: number | null) =>
  v === null ? '–' : `${(v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0)} %`;

const CPU_PART_NAMES: Record<(typeof CPU_PARTS)[number], string> = {
  pods: 'pods',
  service: 'service',
  postgres: 'Postgres',
  redis: 'Redis',
  loadGenerator: 'load generator',
  other: 'other',
};

/** Time to RUNNING (mean) as the service measured it, split into its queue wait, claim and the rest. */
function toRunningRows(points: RatePoint[]): string[] {
  const rest = (p: RatePoint) =>
    p.toRunningParts.total === null
      ? null
      : p.toRunningParts.total - (p.toRunningParts.queueWait ?? 0) - (p.toRunningParts.claim ?? 0);
  return [
    '| arrivals/s | time to RUNNING, mean | provision job waits in the queue | claim on the pod | the rest (admit, commit, enqueue, mark RUNNING) |',
    '| --- | --- | --- | --- | --- |',
    ...points.map(
      (p) =>
        `| ${p.rate} | ${ms(p.toRunningParts.total)} | ${ms(p.toRunningParts.queueWait)} | ${ms(p.toRunningParts.claim)} | ${ms(rest(p))} |`,
    ),
  ];
}

/** Where the CPU goes, per session while the load runs and per second while the full pool idles. */
function cpuRows(points: RatePoint[]): string[] {
  const cells = (s: CpuShares) => CPU_PARTS.map((part) => s[part].toFixed(3)).join(' | ');
  return [
    `| arrivals/s | CPU-s per session: ${CPU_PARTS.map((p) => CPU_PART_NAMES[p]).join(' | ')} | machine | idle pool, CPU-s per second: ${CPU_PARTS.map((p) => CPU_PART_NAMES[p]).join(' | ')} | machine |`,
    `| --- | ${CPU_PARTS.map(() => '---').join(' | ')} | --- | ${CPU_PARTS.map(() => '---').join(' | ')} | --- |`,
    ...points.map(
      (p) =>
        `| ${p.rate} | ${cells(p.cpuPerSession)} | ${p.cpuPerSession.machine.toFixed(3)} | ` +
        `${cells(p.idleCpuPerSecond)} | ${p.idleCpuPerSecond.machine.toFixed(3)} |`,
    ),
  ];
}

/**
 * The "Where the CPU goes" block (after `intro`, its paragraphs) and the time to RUNNING's parts:
 * the same for the real pods and the sim driver.
 */
function cpuAndToRunning(points: RatePoint[], intro: string[] = []): string[] {
  return [
    '### Where the CPU goes',
    '',
    ...intro,
    ...cpuRows(points),
    '',
    "Time to RUNNING as the service measured it (mean over the run, from the stack's own histograms):",
    '',
    ...toRunningRows(points),
    '',
  ];
}

/** A sustained real-Chromium rate's target: < 1 % 503s, no errors, time to RUNNING p99 ≤ 100 ms. */
const meets = (p: RatePoint) =>
  p.refused < MAX_REFUSED && p.errors === 0 && (p.toRunning.p99 ?? Infinity) <= MAX_TO_RUNNING_P99_MS;

/** The control plane's target (sim driver): < 1 % 503s, no errors, create p99 ≤ 50 ms. */
const meetsControlPlane = (p: RatePoint) =>
  p.refused < MAX_REFUSED && p.errors === 0 && (p.create.p99 ?? Infinity) <= 50;

function pointRows(points: RatePoint[], target: (p: RatePoint) => boolean): string[] {
  return [
    '| arrivals/s | n | 503s | errors | warm hits | time to RUNNING p50 / p99 | create p99 | lifecycle p50 / p99 | machine CPU-s per session | meets target |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...points.map(
      (p) =>
        `| ${p.rate} | ${p.arrivals} | ${pct(p.refused)} | ${p.errors} | ${pct(p.warmShare)} | ` +
        `${ms(p.toRunning.p50)} / ${ms(p.toRunning.p99)} | ${ms(p.create.p99)} | ` +
        `${ms(p.lifecycle.p50)} / ${ms(p.lifecycle.p99)} | ${p.cpuSecondsPerSession.toFixed(3)} | ${target(p) ? 'yes' : 'no'} |`,
    ),
  ];
}

/** The title and the machine, date and command of the run. */
export function headerSection(machine: string, argv: string[]): string[] {
  return [
    '# Sustained throughput (`npm run bench:throughput`)',
    '',
    `- machine: ${machine}`,
    `- date: ${new Date().toISOString()}`,
    `- command: \`npm run bench:throughput -- ${argv.join(' ')}\``.replace(/ -- `$/, '`'),
    '',
  ];
}

export function bareSection(bare: BareStarts): string[] {
  return [
    '## The ceiling: bare headless-shell starts',
    '',
    `${bare.starts} starts, ${bare.parallel} at a time, Chromium's sandbox ${bare.sandbox ? 'on' : 'off (run as root)'}, ` +
      'each stopped once DevTools listens: ' +
      `**${bare.perSecond.toFixed(1)} starts/s**, ready p50 ${ms(bare.readyMs.p50)} / p99 ${ms(bare.readyMs.p99)}, ` +
      `${bare.cpuSecondsPerStart.toFixed(3)} machine CPU-seconds per start.`,
    '',
  ];
}

export function directSection(direct: Percentiles): string[] {
  return [
    '## Without us: launch the headless shell yourself',
    '',
    `Playwright \`launch\` → \`newPage\` → \`goto\` the same local page → \`close\`, one at a time, n = 20: ` +
      `p50 ${ms(direct.p50)}, p95 ${ms(direct.p95)}.`,
    '',
  ];
}

export interface SustainedRun {
  points: RatePoint[];
  minReady: number;
  maxTotal: number;
  seconds: number;
  idleSeconds: number;
  /** Whether a cgroup of the benchmark's own counted the pods and the load generator. */
  cgroup: boolean;
  /** The bare headless shell's starts per second and the direct lifecycle's p50, where measured. */
  bareRate: number | undefined;
  directP50: number | undefined;
  /** The plots of the sustained curve. */
  files: Array<{ path: string; title: string }>;
}

export function sustainedSection(run: SustainedRun): string[] {
  const { points, bareRate, directP50 } = run;
  const best = points.filter(meets).at(-1);
  const one = points.find((p) => p.rate === 1);
  return [
    '## Sustained real-Chromium sessions',
    '',
    `Headless local pods, pool min_ready ${run.minReady} / max_total ${run.maxTotal}, each rate ${run.seconds} s of open-loop ` +
      'arrivals on a fresh stack whose pool is full at the start; one arrival is `ventus load --scenario lifecycle` ' +
      '(create → long-poll until RUNNING → `connectOverCDP` → `goto` a local page → release). CPU is the whole ' +
      "machine's (pods, service, databases, load generator) over the run, per completed session.",
    '',
    ...pointRows(points, meets),
    '',
    ...cpuAndToRunning(points, [
      'By who used it (load-tests/harness/cpu-by-process.ts): the pods (every process of every pod, those that ended ' +
        'included), the service (broker, workers, pool controller and proxy: one process here), Postgres, Redis, the load generator and the rest of the machine. ' +
        `Left: per completed session over the run. Right: per second over ${run.idleSeconds} s before the first arrival, the full pool standing ready. ` +
        (run.cgroup
          ? "Pods and the load generator are counted by a cgroup of the benchmark's own (orphans included)."
          : "No cgroup could be made (not root): pods are counted from /proc, a lower bound (a pod's orphans are reaped by init, under 'other')."),
      '',
    ]),
    `Highest rate with < 1 % 503s, no errors and time to RUNNING p99 ≤ 100 ms: **${best ? `${best.rate}/s` : 'none of those run'}**` +
      (best && bareRate
        ? ` = ${((best.rate / bareRate) * 100).toFixed(0)} % of the bare start rate (target ≥ 70 %).`
        : '.'),
    '',
    ...(one && directP50
      ? [
          `One at a time (1/s): lifecycle p50 ${ms(one.lifecycle.p50)} against ${ms(directP50)} launching the headless shell ` +
            `yourself (launch / ours = ${(directP50 / one.lifecycle.p50!).toFixed(2)}; target ≥ 2 and p50 ≤ 90 ms); time to RUNNING ` +
            `p50 ${ms(one.toRunning.p50)} (target ≤ 10 ms).`,
          '',
        ]
      : []),
    ...run.files.map((f) => `![${f.title}](${path.basename(f.path)})`),
    '',
  ];
}

export function pageSection(printed: string): string[] {
  return ['## Page loads through us against direct', '', printed.trim(), ''];
}

export function simSection(points: RatePoint[], seconds: number): string[] {
  const best = points.filter(meetsControlPlane).at(-1);
  return [
    '## The control plane alone (sim driver)',
    '',
    `\`ventus load --scenario churn\` (create → long-poll until RUNNING → release), ${seconds} s per rate, ` +
      'sim pods ready in 50 ms (pool min_ready 64 / max_total 5,000 / max_starting 256), the whole service in one process with the load generator beside it.',
    '',
    ...pointRows(points, meetsControlPlane),
    '',
    ...cpuAndToRunning(points),
    `Highest rate with create p99 ≤ 50 ms, < 1 % 503s and no errors: **${best ? `${best.rate} lifecycles/s` : 'none of those run'}** (target ≥ 1,000/s).`,
    '',
  ];
}
