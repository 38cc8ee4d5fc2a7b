/** The `timers` report: Markdown tables with verdicts, one SVG (two plots), and the files. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatMs } from '../stats.ts';
import { describeMachine } from '../harness/environment.ts';
import { curve } from '../harness/plots.ts';
import type { LatencyStats } from '../harness/report.ts';
import { chart } from '../harness/svg.ts';
import { formatMarkdown } from '../harness/write-report.ts';
import type { TimersReport } from './timers.scenario.ts';

export interface FleetFiles {
  json: string;
  markdown: string;
  svg: string;
}

const ms = (v: number | null) => (v === null ? '–' : formatMs(v));
const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(2)} %`);
export const verdict = (met: boolean | null) =>
  met === null ? 'not measured' : met ? '**met**' : '**not met**';
export const statsRow = (label: string, s: LatencyStats) =>
  `| ${label} | ${s.n} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} |`;

export function timersMarkdown(report: TimersReport, svgName: string, heading = '##'): string {
  const { config: c, environment: env, plant, expiry: e, targets } = report;
  const outcomes = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
  const lines = [
    `${heading} \`timers\`: ${c.pending} pending, creates at ${c.rate}/s for ${c.durationSeconds} s, window ${c.windowSeconds} s`,
    '',
    report.description,
    '',
    `- target: ${env.target}`,
    `- driver: **${env.driver.name}**`,
    `- load generator: ${describeMachine(env.machine)}`,
    `- date: ${env.date}`,
    `- planted: ${plant.admitted} of ${c.pending} in ${plant.seconds.toFixed(1)} s (**${plant.rate}/s**, ${c.plantConcurrency} in flight; 503: ${plant.refused}, errors: ${plant.errors}); all past PROVISIONING ${plant.startedSeconds.toFixed(1)} s later` +
      (plant.delayedJobs === null ? '' : `; delayed lifecycle jobs then: ${plant.delayedJobs}`),
    `- expiries spread evenly over ${c.horizonSeconds} s, the first ${c.firstDueSeconds} s after planting ended; measured: every one due by ${e.windowEnd} (${c.firstDueSeconds} s + the ${c.windowSeconds} s window after the last planted session started; read ${c.graceSeconds} s later)`,
    '',
    '| create latency (202) | n | p50 | p95 | p99 | max |',
    '| --- | --- | --- | --- | --- | --- |',
    statsRow('baseline', report.baseline.latency),
    statsRow(`${c.pending} timers armed`, report.armed.latency),
    '',
    `Answers: baseline ${outcomes(report.baseline.outcomes)}; armed ${outcomes(report.armed.outcomes)}. ` +
      `Create p99 ratio armed/baseline: ${report.p99Ratio === null ? '–' : report.p99Ratio.toFixed(3)}.`,
    '',
    '| expiry lateness | n | p50 | p95 | p99 | max |',
    '| --- | --- | --- | --- | --- | --- |',
    statsRow('released_at − expires_at', e.lateness),
    '',
    `Due in the window: ${e.due} — expired ${e.expired}, not ended when read ${e.notEnded}, ended otherwise ${e.endedOtherwise}; ` +
      `still pending after it: ${e.stillPending}. Within 1 s: ${e.withinOneSecond} of ${e.expired + e.notEnded} (${pct(e.withinOneSecondRate)}).`,
    '',
    '| target | limit | measured | verdict |',
    '| --- | --- | --- | --- |',
    `| expiries within 1 s of expires_at | >= 99 % | ${pct(e.withinOneSecondRate)} | ${verdict(targets.withinOneSecond.met)} |`,
    `| create p99 armed / baseline | <= 1.10 | ${report.p99Ratio === null ? '–' : report.p99Ratio.toFixed(3)} | ${verdict(targets.p99Ratio.met)} |`,
    '',
    `Pool: ${report.pool.note} 503 answers: planting ${report.pool.refused.plant}, baseline ${report.pool.refused.baseline}, armed ${report.pool.refused.armed}.` +
      ` Released at the end: ${report.cleanup.released}${report.cleanup.left !== 0 ? `; **left unreleased: ${report.cleanup.left}**` : ''}.`,
    '',
  ];
  for (const note of report.notes) lines.push(`> ${note}`, '');
  lines.push(`![timers: lateness and create latency by percentile](${svgName})`, '');
  return lines.join('\n');
}

/** Percentile axis ticks (0, 50, 90, 99 … %) for `decades`. */
export function percentileTicks(decades: number): Array<[number, string]> {
  const ticks = Array.from({ length: decades + 1 }, (_, d): [number, string] => [
    d,
    d === 0 ? '0%' : `${(100 - 100 / 10 ** d).toPrecision(d + 1)}%`,
  ]);
  ticks.splice(1, 0, [Math.log10(2), '50%']);
  return ticks;
}

const decadesFor = (...groups: number[][]) =>
  Math.min(4, Math.max(1, Math.ceil(Math.log10(Math.max(2, ...groups.map((g) => g.length))))));

/** Two plots stacked in one SVG: expiry lateness, and create latency baseline vs armed. */
export function timersSvg(report: TimersReport): string {
  const driver = report.environment.driver.name;
  const lateness = report.expiry.samples;
  const top = chart({
    title: `timers: expiry lateness by percentile (${report.config.pending} pending, ${driver} driver)`,
    xLabel: 'percentile',
    yLabel: 'released_at − expires_at (ms)',
    xTicks: percentileTicks(decadesFor(lateness)),
    series: [
      {
        label: `lateness (n=${lateness.length})`,
        color: '#d62728',
        kind: 'line',
        points: curve(lateness, decadesFor(lateness)),
      },
    ],
  });
  const { baseline, armed } = report;
  const d = decadesFor(baseline.samples, armed.samples);
  const bottom = chart({
    title: `timers: create latency (202) by percentile, baseline vs ${report.config.pending} timers armed`,
    xLabel: 'percentile',
    yLabel: 'latency from scheduled start (ms)',
    xTicks: percentileTicks(d),
    series: [
      {
        label: `baseline (n=${baseline.samples.length})`,
        color: '#1f77b4',
        kind: 'line',
        points: curve(baseline.samples, d),
      },
      {
        label: `armed (n=${armed.samples.length})`,
        color: '#ff7f0e',
        kind: 'line',
        points: curve(armed.samples, d),
      },
    ],
  });
  return stack([top, bottom]);
}

/** Charts (each a whole <svg> of 760×360) one under the other in one SVG document. */
export function stack(charts: string[]): string {
  const inner = charts.map((svg, i) => svg.replace(/^<svg /, `<svg y="${i * 360}" `));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="760" height="${360 * charts.length}">\n${inner.join('')}</svg>\n`;
}

/** `<base>.json`, `<base>.md` and `<base>-percentiles.svg`: the files of a timers or concurrent run. */
export async function writeFleetReport(
  report: object,
  outDir: string,
  base: string,
  render: { markdown: (svgName: string) => string; svg: () => string },
): Promise<FleetFiles> {
  await mkdir(outDir, { recursive: true });
  const files: FleetFiles = {
    json: path.join(outDir, `${base}.json`),
    markdown: path.join(outDir, `${base}.md`),
    svg: path.join(outDir, `${base}-percentiles.svg`),
  };
  const svgName = path.basename(files.svg);
  await Promise.all([
    writeFile(files.json, `${JSON.stringify({ ...report, files: { percentiles: svgName } })}\n`),
    writeFile(files.markdown, await formatMarkdown(`# Load test\n\n${render.markdown(svgName)}`)),
    writeFile(files.svg, render.svg()),
  ]);
  return files;
}

export function writeTimersReport(report: TimersReport, outDir: string, base: string): Promise<FleetFiles> {
  return writeFleetReport(report, outDir, base, {
    markdown: (svgName) => timersMarkdown(report, svgName),
    svg: () => timersSvg(report),
  });
}
