/** The report of one load run: a summary, a per-interval time series and the raw samples (pure). */
import { percentiles } from '../stats.ts';
import type { OpenLoopResult, Sample } from './scheduler.ts';
import type { RunEnvironment } from './environment.ts';

/** Percentiles in ms; null when there is no sample (JSON has no NaN). */
export interface LatencyStats {
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export interface Bucket {
  /** Start of the interval, seconds after t0 (by scheduled start). */
  t: number;
  scheduled: number;
  errors: number;
  outcomes: Record<string, number>;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export interface RunConfig {
  scenario: string;
  rate: number;
  durationSeconds: number;
  concurrency: number;
}

export interface Report {
  scenario: string;
  description: string;
  config: RunConfig;
  environment: RunEnvironment;
  startedAt: string;
  elapsedSeconds: number;
  summary: {
    scheduled: number;
    completed: number;
    errors: number;
    /** Answers per second over the run (the longer of the set duration and t0 -> last answer). */
    achievedRate: number;
    outcomes: Record<string, number>;
    /** Every request that got an answer (dropped arrivals excluded), from its scheduled start. */
    latency: LatencyStats;
    latencyByOutcome: Record<string, LatencyStats>;
    /** Per step, over the requests that completed the whole scenario (outcome `ok`/first success). */
    steps: Record<string, LatencyStats>;
    errorDetails: Array<{ outcome: string; detail: string; count: number }>;
  };
  notes: string[];
  bucketSeconds: number;
  timeSeries: Bucket[];
  samples: Sample[];
}

export function latencyStats(values: number[]): LatencyStats {
  if (values.length === 0) return { n: 0, p50: null, p95: null, p99: null, max: null, mean: null };
  const p = percentiles(values);
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    n: values.length,
    p50: round(p.p50),
    p95: round(p.p95),
    p99: round(p.p99),
    max: round(p.max),
    mean: round(p.mean),
  };
}

const latencies = (samples: Sample[]) =>
  samples.map((s) => s.latencyMs).filter((v): v is number => v !== null);

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** About 120 intervals at most, of whole seconds. */
export function bucketSecondsFor(durationSeconds: number): number {
  return Math.max(1, Math.ceil(durationSeconds / 120));
}

export function buildReport(input: {
  config: RunConfig;
  description: string;
  environment: RunEnvironment;
  result: OpenLoopResult;
  /** Steps the scenario marks, in order. */
  steps: string[];
  /** Outcomes the scenario expects: counted (as 0) even when none occurred. */
  outcomes?: string[];
  notes?: string[];
}): Report {
  const { config, result } = input;
  const samples = result.samples;
  const answered = samples.filter((s) => s.latencyMs !== null);
  const outcomes: Record<string, number> = Object.fromEntries((input.outcomes ?? []).map((o) => [o, 0]));
  Object.assign(
    outcomes,
    countBy(samples, (s) => s.outcome),
  );
  const byOutcome: Record<string, LatencyStats> = {};
  for (const outcome of Object.keys(outcomes).sort()) {
    const stats = latencyStats(latencies(samples.filter((s) => s.outcome === outcome)));
    if (stats.n > 0) byOutcome[outcome] = stats;
  }
  const complete = samples.filter((s) => !s.error && s.steps && input.steps.every((k) => k in s.steps!));
  const steps: Record<string, LatencyStats> = {};
  for (const step of input.steps) steps[step] = latencyStats(complete.map((s) => s.steps![step]!));
  const details = countBy(
    samples.filter((s) => s.error),
    (s) => JSON.stringify([s.outcome, s.detail ?? '']),
  );
  const bucketSeconds = bucketSecondsFor(config.durationSeconds);
  const groups: Sample[][] = [];
  for (const s of samples) {
    const i = Math.floor(s.scheduledMs / 1000 / bucketSeconds);
    while (groups.length <= i) groups.push([]);
    groups[i]!.push(s);
  }
  const timeSeries: Bucket[] = groups.map((inside, i) => {
    const stats = latencyStats(latencies(inside));
    return {
      t: i * bucketSeconds,
      scheduled: inside.length,
      errors: inside.filter((s) => s.error).length,
      outcomes: countBy(inside, (s) => s.outcome),
      p50: stats.p50,
      p99: stats.p99,
      max: stats.max,
    };
  });
  const elapsedSeconds = result.elapsedMs / 1000;
  return {
    scenario: config.scenario,
    description: input.description,
    config,
    environment: input.environment,
    startedAt: result.startedAt.toISOString(),
    elapsedSeconds: Math.round(elapsedSeconds * 1000) / 1000,
    summary: {
      scheduled: samples.length,
      completed: answered.length,
      errors: samples.filter((s) => s.error).length,
      achievedRate:
        Math.round((answered.length / Math.max(elapsedSeconds, config.durationSeconds)) * 100) / 100,
      outcomes,
      latency: latencyStats(latencies(answered)),
      latencyByOutcome: byOutcome,
      steps,
      errorDetails: Object.entries(details)
        .map(([key, count]) => {
          const [outcome, detail] = JSON.parse(key) as [string, string];
          return { outcome, detail, count };
        })
        .sort((a, b) => b.count - a.count)
        .slice(0, 10),
    },
    notes: input.notes ?? [],
    bucketSeconds,
    timeSeries,
    samples,
  };
}
