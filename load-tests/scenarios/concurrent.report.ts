/** The `concurrent` report: GET latency and memory with verdicts, a percentile plot, and the files. */
import { describeMachine } from '../harness/environment.ts';
import { curve } from '../harness/plots.ts';
import { chart } from '../harness/svg.ts';
import type { ConcurrentReport } from './concurrent.scenario.ts';
import { percentileTicks, statsRow, verdict, writeFleetReport, type FleetFiles } from './timers.report.ts';

const mb = (v: number | null) => (v === null ? '–' : `${(v / 2 ** 20).toFixed(1)} MB`);

export function concurrentMarkdown(report: ConcurrentReport, svgName: string, heading = '##'): string {
  const { config: c, environment: env, create, get, rss, targets } = report;
  const rssMax = Math.max(...[rss.before, rss.running, rss.afterGets].filter((v): v is number => v !== null));
  const lines = [
    `${heading} \`concurrent\`: ${c.sessions} sessions held, GET at ${c.rate}/s for ${c.durationSeconds} s`,
    '',
    report.description,
    '',
    `- target: ${env.target}`,
    `- driver: **${env.driver.name}**`,
    `- load generator: ${describeMachine(env.machine)}`,
    `- date: ${env.date}`,
    `- created: ${create.admitted} of ${c.sessions} in ${create.seconds.toFixed(1)} s (${create.rate}/s, ${c.createConcurrency} in flight; 503: ${create.refused}, errors: ${create.errors}); ` +
      `${create.running} RUNNING ${create.startedSeconds.toFixed(1)} s later`,
    '',
    '| GET /v1/sessions/{id} | n | p50 | p95 | p99 | max |',
    '| --- | --- | --- | --- | --- | --- |',
    statsRow('200 answers', get.latency),
    '',
    `Scheduled ${get.scheduled}; ${Object.entries(get.outcomes)
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ')}; errors ${get.errors}. Latency from each request’s scheduled start (open loop).`,
    '',
    '| resident memory (/metrics) | before | all RUNNING | after the GETs |',
    '| --- | --- | --- | --- |',
    `| process_resident_memory_bytes | ${mb(rss.before)} | ${mb(rss.running)} | ${mb(rss.afterGets)} |`,
    '',
    '| target | limit | measured | verdict |',
    '| --- | --- | --- | --- |',
    `| GET p99 | <= 10 ms | ${get.latency.p99 === null ? '–' : `${get.latency.p99.toFixed(2)} ms`} | ${verdict(targets.getP99.met)} |`,
    `| RSS (max of the three) | <= 200 MB | ${Number.isFinite(rssMax) ? mb(rssMax) : '–'} | ${verdict(targets.rss.met)} |`,
    '',
    `Pool: ${report.pool.note} Released at the end: ${report.cleanup.released}${report.cleanup.left !== 0 ? `; **left unreleased: ${report.cleanup.left}**` : ''}.`,
    '',
  ];
  for (const note of report.notes) lines.push(`> ${note}`, '');
  lines.push(`![concurrent: GET latency by percentile](${svgName})`, '');
  return lines.join('\n');
}

export function concurrentSvg(report: ConcurrentReport): string {
  const values = report.get.samples;
  const decades = Math.min(4, Math.max(1, Math.ceil(Math.log10(Math.max(2, values.length)))));
  return chart({
    title: `concurrent: GET /v1/sessions/{id} by percentile, ${report.create.running} sessions held (${report.environment.driver.name} driver)`,
    xLabel: 'percentile',
    yLabel: 'latency from scheduled start (ms)',
    xTicks: percentileTicks(decades),
    series: [
      { label: `GET (n=${values.length})`, color: '#1f77b4', kind: 'line', points: curve(values, decades) },
    ],
  });
}

export function writeConcurrentReport(
  report: ConcurrentReport,
  outDir: string,
  base: string,
): Promise<FleetFiles> {
  return writeFleetReport(report, outDir, base, {
    markdown: (svgName) => concurrentMarkdown(report, svgName),
    svg: () => concurrentSvg(report),
  });
}
