/** What `ventus pools` prints: JSON documents (snake_case) and small text tables. */
import type { PoolSettings } from '../core/db/pools.repository.ts';
import type { Advice, Prediction, Traffic } from '../core/capacity/erlang-b.ts';
import type { ObservedLoad } from '../core/capacity/observed-load.ts';

/** Live figures, as `GET /v1/pools` shows them; the Redis ones are null when Redis does not answer. */
export interface PoolStatus {
  ready: number | null;
  warming: number | null;
  admitted: number | null;
  queued: number;
  held: number;
  warmup_ms: number | null;
}

export function poolJson(p: PoolSettings) {
  return {
    name: p.name,
    region: p.region,
    runtime_kind: p.runtimeKind,
    min_ready: p.minReady,
    max_total: p.maxTotal,
    max_starting: p.maxStarting,
    updated_at: p.updatedAt.toISOString(),
  };
}

/**
 * Left-aligned first column (the first `leftColumns`), right-aligned numbers, two spaces between
 * columns.
 */
export function table(rows: string[][], leftColumns = 1): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i < leftColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const dash = (v: number | null) => (v === null ? '-' : String(v));
const maxStartingText = (v: number | null) => (v === null ? 'default' : String(v));

export function poolsText(pools: { settings: PoolSettings; status: PoolStatus }[]): string {
  if (pools.length === 0) return 'no pools';
  return table([
    [
      'POOL',
      'MIN_READY',
      'MAX_TOTAL',
      'MAX_STARTING',
      'READY',
      'WARMING',
      'ADMITTED',
      'QUEUED',
      'HELD',
      'WARMUP',
    ],
    ...pools.map(({ settings: p, status: s }) => [
      p.name,
      String(p.minReady),
      String(p.maxTotal),
      maxStartingText(p.maxStarting),
      dash(s.ready),
      dash(s.warming),
      dash(s.admitted),
      String(s.queued),
      String(s.held),
      s.warmup_ms === null ? '-' : `${s.warmup_ms} ms`,
    ]),
  ]);
}

export function changeText(before: PoolSettings, after: PoolSettings): string {
  const row = (name: string, from: string, to: string) => [name, from, from === to ? '' : '->', to];
  return `pool ${after.name} updated\n${table([
    row('  min_ready', String(before.minReady), String(after.minReady)),
    row('  max_total', String(before.maxTotal), String(after.maxTotal)),
    row('  max_starting', maxStartingText(before.maxStarting), maxStartingText(after.maxStarting)),
  ])}`;
}

/** Three significant figures, without exponent notation for the magnitudes pools see. */
const num = (x: number) => String(Number(x.toPrecision(3)));

function percent(x: number): string {
  if (x > 0 && x < 0.0001) return '<0.01%';
  if (x < 1 && x > 0.9999) return '>99.99%';
  return `${(x * 100).toFixed(2)}%`;
}

export type InputSource = 'flag' | 'observed';

export interface AdviceReport {
  traffic: Traffic;
  sources: { arrivalRate: InputSource; meanSession: InputSource; startSeconds: InputSource };
  advice: Advice;
  /** Only with --pool. */
  pool?: { settings: PoolSettings; observed: ObservedLoad; current: Prediction };
}

const predictionJson = (p: Prediction) => ({ rate_503: p.rate503, warm_hit_rate: p.warmHitRate });

export function adviceJson(r: AdviceReport) {
  const { advice, traffic, pool } = r;
  return {
    inputs: {
      arrival_rate_per_second: traffic.arrivalRatePerSecond,
      mean_session_seconds: traffic.meanSessionSeconds,
      start_seconds: traffic.startSeconds,
      target_503_rate: advice.target503Rate,
      target_warm_hit_rate: advice.targetWarmHitRate,
    },
    input_sources: {
      arrival_rate: r.sources.arrivalRate,
      mean_session: r.sources.meanSession,
      start_seconds: r.sources.startSeconds,
    },
    offered_load_erlangs: advice.offeredLoadErlangs,
    warm_offered_load_erlangs: advice.warmOfferedLoadErlangs,
    recommended: { max_total: advice.maxTotal, min_ready: advice.minReady },
    predicted: predictionJson(advice.predicted),
    notes: advice.notes,
    pool: pool
      ? {
          name: pool.settings.name,
          observed: {
            window_seconds: pool.observed.windowSeconds,
            until: pool.observed.until.toISOString(),
            arrivals: pool.observed.arrivals,
            arrival_rate_per_second: pool.observed.arrivalRatePerSecond,
            ended_sessions: pool.observed.endedSessions,
            mean_session_seconds: pool.observed.meanSessionSeconds ?? null,
            carried_load_erlangs: pool.observed.carriedLoadErlangs,
            warmup_ms: pool.observed.warmupMs ?? null,
          },
          current: {
            min_ready: pool.settings.minReady,
            max_total: pool.settings.maxTotal,
            max_starting: pool.settings.maxStarting,
            predicted: predictionJson(pool.current),
          },
        }
      : null,
  };
}

export function adviceText(r: AdviceReport, windowText: string): string {
  const { advice, traffic, pool } = r;
  const lines: string[] = [];
  if (pool) {
    const o = pool.observed;
    lines.push(
      `pool ${pool.settings.name}, last ${windowText}: ${o.arrivals} sessions created, ${o.endedSessions} ended` +
        (o.meanSessionSeconds === undefined ? '' : ` (mean ${num(o.meanSessionSeconds)} s)`) +
        `, ${num(o.carriedLoadErlangs)} slots held on average` +
        (o.warmupMs === undefined ? '' : `, pods start in ${o.warmupMs} ms (median)`),
    );
  }
  const tag = (s: InputSource) => (s === 'observed' ? ' (observed)' : '');
  lines.push(
    `sessions: ${num(traffic.arrivalRatePerSecond)}/s${tag(r.sources.arrivalRate)} x ` +
      `${num(traffic.meanSessionSeconds)} s${tag(r.sources.meanSession)} = ` +
      `${num(advice.offeredLoadErlangs)} erlangs offered`,
    `warm pool: ${num(traffic.arrivalRatePerSecond)}/s x ${num(traffic.startSeconds)} s start` +
      `${tag(r.sources.startSeconds)} = ${num(advice.warmOfferedLoadErlangs)} erlangs of replacements`,
    '',
  );
  const header = pool ? ['', 'RECOMMENDED', 'CURRENT', 'TARGET'] : ['', 'RECOMMENDED', 'TARGET'];
  const rows = [
    ['max_total', String(advice.maxTotal), pool && String(pool.settings.maxTotal), ''],
    ['min_ready', String(advice.minReady), pool && String(pool.settings.minReady), ''],
    [
      '503 rate',
      percent(advice.predicted.rate503),
      pool && percent(pool.current.rate503),
      `<= ${percent(advice.target503Rate)}`,
    ],
    [
      'warm hits',
      percent(advice.predicted.warmHitRate),
      pool && percent(pool.current.warmHitRate),
      `>= ${percent(advice.targetWarmHitRate)}`,
    ],
  ].map((row) => row.filter((cell): cell is string => cell !== undefined));
  lines.push(table([header, ...rows]));
  for (const note of advice.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
