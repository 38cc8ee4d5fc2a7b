/** The `pool-sweep` report: a measured-vs-predicted table per setting, one plot, and the files. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatMs } from '../stats.ts';
import { describeMachine } from '../harness/environment.ts';
import type { LatencyStats } from '../harness/report.ts';
import { chart } from '../harness/svg.ts';
import { formatMarkdown } from '../harness/write-report.ts';
import type { PoolSweepReport } from './pool-sweep.scenario.ts';

export interface PoolSweepFiles {
  json: string;
  markdown: string;
  svg: string;
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
const ms = (v: number | null) => (v === null ? '–' : formatMs(v));
const ttr = (s: LatencyStats) => (s.n === 0 ? '–' : `${ms(s.p50)} / ${ms(s.p99)} (n=${s.n})`);
const label = (r: PoolSweepReport['rows'][number]) => `${r.setting.maxTotal}:${r.setting.minReady}`;

export function poolSweepMarkdown(report: PoolSweepReport, svgName: string, heading = '##'): string {
  const { config, environment: env } = report;
  const lines = [
    `${heading} \`pool-sweep\`: ${report.rows.length} settings, ${config.rate}/s for ${config.durationSeconds} s each, sessions of ${config.sessionSeconds} s`,
    '',
    report.description,
    '',
    `- target: ${env.target}, pool \`${config.pool}\` (settings before the sweep, restored after: ${report.original.maxTotal}:${report.original.minReady})`,
    `- driver: **${env.driver.name}**`,
    `- load generator: ${describeMachine(env.machine)}`,
    `- date: ${env.date}`,
    `- arrivals: Poisson, seed ${config.seed}; offered load ${config.rate}/s × ${config.sessionSeconds} s = ${(config.rate * config.sessionSeconds).toFixed(2)} erlangs`,
    '',
    '| max_total:min_ready | arrivals | 202 | 503 | errors | 503 rate measured | 503 rate Erlang-B | warm hits measured | warm hits Erlang-B | warm-up | time-to-RUNNING warm p50 / p99 | cold p50 / p99 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of report.rows) {
    lines.push(
      `| ${label(r)} | ${r.arrivals} | ${r.admitted} | ${r.refused} | ${r.errors} | ${pct(r.measured.rate503)} | ${pct(r.predicted.rate503)} | ` +
        `${pct(r.measured.warmHitRate)} (${r.measured.warm}/${r.measured.warm + r.measured.cold}) | ${pct(r.predicted.warmHitRate)} | ` +
        `${ms(r.warmupMs)} | ${ttr(r.timeToRunningMs.warm)} | ${ttr(r.timeToRunningMs.cold)} |`,
    );
  }
  lines.push(
    '',
    'Erlang-B: 503 rate = B(max_total, rate × session length); warm hits = 1 − B(min_ready, rate × warm-up).',
    '',
  );
  const errors = report.rows.flatMap((r) =>
    r.samples.filter((x) => x.outcome !== '202' && x.outcome !== '503'),
  );
  if (errors.length > 0) {
    const counts = new Map<string, number>();
    for (const e of errors) {
      const key = `${e.outcome} | ${(e.detail ?? '–').replace(/\|/g, '\\|')}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    lines.push('| error | detail | count |', '| --- | --- | --- |');
    for (const [key, n] of counts) lines.push(`| ${key} | ${n} |`);
    lines.push('');
  }
  for (const note of report.notes) lines.push(`> ${note}`, '');
  lines.push(`![503 rate and warm hits, measured vs Erlang-B](${svgName})`, '');
  return lines.join('\n');
}

/** 503 rate and warm-hit rate per setting: measured (dots on a line) against Erlang-B. */
export function poolSweepSvg(report: PoolSweepReport): string {
  const at = (pick: (r: PoolSweepReport['rows'][number]) => number | null) =>
    report.rows.flatMap((r, i): Array<[number, number]> => {
      const v = pick(r);
      return v === null ? [] : [[i + 1, v * 100]];
    });
  const measured503 = at((r) => r.measured.rate503);
  const measuredWarm = at((r) => r.measured.warmHitRate);
  const xTicks: Array<[number, string]> = report.rows.map((r, i) => [i + 1, label(r)]);
  xTicks.push([report.rows.length + 1, '']);
  return chart({
    title: `pool-sweep: measured vs Erlang-B (${report.config.rate}/s, ${report.config.sessionSeconds} s sessions, ${report.environment.driver.name} driver)`,
    xLabel: 'max_total:min_ready',
    yLabel: 'percent of requests',
    xTicks,
    series: [
      { label: '503 rate, Erlang-B', color: '#d62728', kind: 'line', points: at((r) => r.predicted.rate503) },
      { label: '503 rate, measured', color: '#ff9896', kind: 'line', points: measured503 },
      { label: '', color: '#d62728', kind: 'dots', points: measured503 },
      {
        label: 'warm hits, Erlang-B',
        color: '#1f77b4',
        kind: 'line',
        points: at((r) => r.predicted.warmHitRate),
      },
      { label: 'warm hits, measured', color: '#aec7e8', kind: 'line', points: measuredWarm },
      { label: '', color: '#1f77b4', kind: 'dots', points: measuredWarm },
    ],
  });
}

export async function writePoolSweepReport(
  report: PoolSweepReport,
  outDir: string,
  base: string,
): Promise<PoolSweepFiles> {
  await mkdir(outDir, { recursive: true });
  const files: PoolSweepFiles = {
    json: path.join(outDir, `${base}.json`),
    markdown: path.join(outDir, `${base}.md`),
    svg: path.join(outDir, `${base}-erlang.svg`),
  };
  const svgName = path.basename(files.svg);
  await Promise.all([
    writeFile(files.json, `${JSON.stringify({ ...report, files: { erlang: svgName } })}\n`),
    writeFile(files.markdown, await formatMarkdown(`# Load test\n\n${poolSweepMarkdown(report, svgName)}`)),
    writeFile(files.svg, poolSweepSvg(report)),
  ]);
  return files;
}
