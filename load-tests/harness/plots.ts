/** The two plots of a report: latency over the run, and the latency percentile distribution. */
import { chart, type Series } from './svg.ts';
import type { Report } from './report.ts';
import type { Sample } from './scheduler.ts';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const MAX_DOTS = 2000;

/** Every request as a dot (by scheduled start; errors in red), with p50/p99/max per interval. */
export function latencyOverTime(report: Report): string {
  const answered = report.samples.filter((s) => s.latencyMs !== null);
  // Thinned to keep the file small; the max line still shows every peak.
  const stride = Math.max(1, Math.ceil(answered.length / MAX_DOTS));
  const thin = answered.filter((_, i) => i % stride === 0);
  const dot = (s: Sample): [number, number] => [s.scheduledMs / 1000, s.latencyMs!];
  const mid = report.bucketSeconds / 2;
  const line = (label: string, color: string, pick: (b: Report['timeSeries'][number]) => number | null) => ({
    label,
    color,
    kind: 'line' as const,
    points: report.timeSeries.flatMap((b): Array<[number, number]> => {
      const v = pick(b);
      return v === null ? [] : [[b.t + mid, v]];
    }),
  });
  return chart({
    title: `${report.scenario}: latency over time (${report.config.rate}/s, ${report.environment.driver.name} driver)`,
    xLabel: 'scheduled start (s)',
    yLabel: 'latency from scheduled start (ms)',
    series: [
      { label: 'request', color: '#7f9fbf', kind: 'dots', points: thin.filter((s) => !s.error).map(dot) },
      { label: 'error', color: '#d62728', kind: 'dots', points: thin.filter((s) => s.error).map(dot) },
      line(`p50 / ${report.bucketSeconds}s`, '#2ca02c', (b) => b.p50),
      line(`p99 / ${report.bucketSeconds}s`, '#ff7f0e', (b) => b.p99),
      line(`max / ${report.bucketSeconds}s`, '#9467bd', (b) => b.max),
    ],
  });
}

/**
 * Latency by percentile on the usual log-odds axis (0, 90, 99, 99.9 %): one line per step for a
 * multi-step scenario (plus the total), else one per outcome.
 */
export function percentilePlot(report: Report): string {
  const groups: Array<[string, number[]]> = [];
  const stepNames = Object.keys(report.summary.steps);
  if (stepNames.length > 0) {
    const complete = report.samples.filter(
      (s) => !s.error && s.steps && stepNames.every((k) => k in s.steps!),
    );
    groups.push(['total', complete.map((s) => s.latencyMs!)]);
    for (const step of stepNames) groups.push([step, complete.map((s) => s.steps![step]!)]);
  } else {
    for (const outcome of Object.keys(report.summary.latencyByOutcome)) {
      const values = report.samples.filter((s) => s.outcome === outcome).map((s) => s.latencyMs!);
      groups.push([outcome, values]);
    }
  }
  const nMax = Math.max(1, ...groups.map(([, v]) => v.length));
  const decades = Math.min(5, Math.max(1, Math.ceil(Math.log10(nMax))));
  const xTicks = Array.from({ length: decades + 1 }, (_, d): [number, string] => [
    d,
    d === 0 ? '0%' : `${(100 - 100 / 10 ** d).toPrecision(d + 1)}%`,
  ]);
  xTicks.splice(1, 0, [Math.log10(2), '50%']);
  const series: Series[] = groups.map(([label, values], i) => ({
    label: `${label} (n=${values.length})`,
    color: PALETTE[i % PALETTE.length]!,
    kind: 'line',
    points: curve(values, decades),
  }));
  return chart({
    title: `${report.scenario}: latency percentiles (${report.environment.driver.name} driver)`,
    xLabel: 'percentile',
    yLabel: 'latency (ms)',
    series,
    xTicks,
  });
}

/** (x = -log10(1 - p), latency) at about 300 points, ranks nearest to an even grid on x. */
export function curve(values: number[], decades: number): Array<[number, number]> {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return [];
  const xEnd = Math.min(decades, Math.log10(n));
  const ranks = new Set<number>();
  for (let j = 0; j <= 300; j++) {
    const p = 1 - 10 ** (-(xEnd * j) / 300);
    ranks.add(Math.min(n - 1, Math.floor(p * n)));
  }
  ranks.add(n - 1);
  return [...ranks].sort((a, b) => a - b).map((k) => [Math.min(xEnd, -Math.log10(1 - k / n)), sorted[k]!]);
}
