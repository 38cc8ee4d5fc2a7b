/** The Markdown summary of a report (also the sections of `load-tests/results/latest.md`). */
import { formatMs } from '../stats.ts';
import { describeMachine } from './environment.ts';
import type { LatencyStats, Report } from './report.ts';

const ms = (v: number | null) => (v === null ? '–' : formatMs(v));

function latencyRow(label: string, s: LatencyStats): string {
  return `| ${label} | ${s.n} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} | ${ms(s.mean)} |`;
}

/** `plots` are the file names of the SVGs, relative to the Markdown file. */
export function markdownSummary(
  report: Report,
  plots: { latency: string; percentiles: string },
  heading = '##',
): string {
  const { config, environment: env, summary } = report;
  const driverSource =
    env.driver.source === 'unknown' ? 'not reported by the target; pass --driver-label' : env.driver.source;
  const outcomes = Object.entries(summary.outcomes).sort(([a], [b]) => a.localeCompare(b));
  const lines = [
    `${heading} \`${report.scenario}\`: ${config.rate}/s for ${config.durationSeconds} s, concurrency ${config.concurrency}`,
    '',
    report.description,
    '',
    `- target: ${env.target}`,
    `- driver: **${env.driver.name}** (${driverSource})`,
    `- load generator: ${describeMachine(env.machine)}`,
    `- date: ${env.date}`,
    '',
    `| scheduled | answered | errors | ${outcomes.map(([o]) => o).join(' | ')} | achieved rate |`,
    `| --- | --- | --- | ${outcomes.map(() => '---').join(' | ')} | --- |`,
    `| ${summary.scheduled} | ${summary.completed} | ${summary.errors} | ${outcomes.map(([, n]) => n).join(' | ')} | ${summary.achievedRate}/s |`,
    '',
    'Latency runs from each request’s scheduled start (open-loop arrivals: a slow answer delays no later request).',
    '',
    '| latency | n | p50 | p95 | p99 | max | mean |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    latencyRow('all answered', summary.latency),
    ...Object.entries(summary.latencyByOutcome).map(([o, s]) => latencyRow(`outcome \`${o}\``, s)),
    ...Object.entries(summary.steps).map(([step, s]) => latencyRow(`step \`${step}\``, s)),
    '',
  ];
  if (summary.errorDetails.length > 0) {
    lines.push('| error | detail | count |', '| --- | --- | --- |');
    for (const e of summary.errorDetails) {
      lines.push(`| ${e.outcome} | ${e.detail.replace(/\|/g, '\\|') || '–'} | ${e.count} |`);
    }
    lines.push('');
  }
  for (const note of report.notes) lines.push(`> ${note}`, '');
  lines.push(
    `![latency over time](${plots.latency})`,
    '',
    `![latency percentiles](${plots.percentiles})`,
    '',
  );
  return lines.join('\n');
}
