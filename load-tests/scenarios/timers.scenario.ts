/**
 * `timers`: expiry lateness and create latency while many session timers are pending, over the
 * public API only.
 *
 * 1. baseline: open-loop POST /v1/sessions at the rate for the duration (the `create` task: each
 *    admitted session is released at once);
 * 2. plant: N sessions, bounded concurrency, as fast as the server takes them, with staggered
 *    `timeout_seconds` so their `expires_at` are spread evenly over the horizon, the first due
 *    `firstDue` after planting ends. Latest-due first: the sessions due in the window go last, when
 *    the planting rate (and so its end) is known best. `keep_alive_seconds` keeps a session without
 *    CDP clients from being treated as disconnected;
 * 3. armed: the same creates again while the N timers are pending;
 * 4. once every expiry of the window (`window` seconds from the first due) is due, plus a grace,
 *    list the planted sessions and take lateness = `released_at` − `expires_at` of those the
 *    expiry ended (status EXPIRED, `release_reason: timeout`); one due but not ended counts as
 *    late, by at least the time it has been due;
 * 5. release every planted session, whatever happened (also on Ctrl-C), and put the pool back.
 *
 * The API allows `timeout_seconds` of 60 to 86,400, so the first expiry is at least 60 s after the
 * last session was planted.
 */
import type { RunEnvironment } from '../harness/environment.ts';
import { machine } from '../harness/environment.ts';
import type { HttpClient } from '../harness/http-client.ts';
import { latencyStats, type LatencyStats } from '../harness/report.ts';
import { OpenLoop } from '../harness/scheduler.ts';
import { createScenario } from './create.scenario.ts';
import {
  createMany,
  ensureRoom,
  listRun,
  MAX_TIMEOUT_SECONDS,
  MIN_TIMEOUT_SECONDS,
  metricValue,
  releaseRun,
  restoreRoom,
  runLabel,
  scrapeMetrics,
  sleep,
  waitUntilStarted,
  type CreateCounts,
  type PoolRoom,
} from './fleet.ts';

const WARMUP_CREATES = 20;

export interface TimersOptions {
  http: HttpClient;
  target: string;
  driver: RunEnvironment['driver'];
  pending: number;
  /** Open-loop creates per second, baseline and armed. */
  rate: number;
  durationSeconds: number;
  concurrency: number;
  /** Creates in flight while planting. */
  plantConcurrency: number;
  /** Expiries due within this many seconds of the first are measured. */
  windowSeconds: number;
  /** Planting end -> first expiry (>= 60 s, the API's least timeout). */
  firstDueSeconds: number;
  /** Expiries are spread evenly over this span. */
  horizonSeconds: number;
  /** Waited after the window's last expiry is due before reading. */
  graceSeconds?: number;
  pool?: string;
  metricsToken?: string;
  notes?: string[];
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface CreatePhase {
  scheduled: number;
  outcomes: Record<string, number>;
  /** Of the 202 answers, from each request's scheduled start. */
  latency: LatencyStats;
  samples: number[];
}

export interface TimersReport {
  scenario: 'timers';
  description: string;
  config: {
    pending: number;
    rate: number;
    durationSeconds: number;
    concurrency: number;
    plantConcurrency: number;
    windowSeconds: number;
    firstDueSeconds: number;
    horizonSeconds: number;
    graceSeconds: number;
  };
  environment: RunEnvironment;
  plant: CreateCounts & {
    seconds: number;
    /** Admitted creates per second of planting. */
    rate: number;
    /** Planting end -> none of them QUEUED or PROVISIONING. */
    startedSeconds: number;
    /** `ventus_queue_jobs{queue="lifecycle",state="delayed"}` once they all ran, when /metrics answers. */
    delayedJobs: number | null;
  };
  baseline: CreatePhase;
  armed: CreatePhase;
  /** armed p99 / baseline p99 (202 answers). */
  p99Ratio: number | null;
  expiry: {
    /** Server time (ISO) up to which expiries were measured. */
    windowEnd: string;
    due: number;
    expired: number;
    /** Due, but still live when read: late by at least `readAt − expires_at`. */
    notEnded: number;
    /** Due, ended some other way (errored, released): not an expiry, left out. */
    endedOtherwise: number;
    /** Planted sessions not due yet when read (should be the rest). */
    stillPending: number;
    lateness: LatencyStats;
    withinOneSecond: number;
    /** withinOneSecond / (expired + notEnded). */
    withinOneSecondRate: number | null;
    samples: number[];
  };
  targets: {
    withinOneSecond: { limit: 0.99; met: boolean | null };
    p99Ratio: { limit: 1.1; met: boolean | null };
  };
  /** How the pool was given room, and every 503 of the run. */
  pool: { note: string; refused: { plant: number; baseline: number; armed: number } };
  cleanup: { released: number; left: number };
  notes: string[];
}

export const TIMERS_DESCRIPTION =
  'Create latency (open-loop POST /v1/sessions) before and while N session timers are pending, and the lateness ' +
  '(released_at − expires_at) of every expiry due in the window, all over the public API.';

async function createPhase(options: TimersOptions): Promise<CreatePhase> {
  const prepared = await createScenario.prepare({ target: options.target, http: options.http });
  const loop = new OpenLoop({
    rate: options.rate,
    durationMs: options.durationSeconds * 1000,
    concurrency: options.concurrency,
    task: (ctx) =>
      options.signal?.aborted ? Promise.resolve({ outcome: 'aborted', error: true }) : prepared.task(ctx),
  });
  let result;
  try {
    result = await loop.run();
  } finally {
    await prepared.close();
  }
  const outcomes: Record<string, number> = { '202': 0, '503': 0 };
  for (const s of result.samples) outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
  const samples = result.samples.filter((s) => s.outcome === '202').map((s) => s.latencyMs!);
  return {
    scheduled: result.samples.length,
    outcomes,
    latency: latencyStats(samples),
    samples: samples.map((v) => Math.round(v * 1000) / 1000),
  };
}

/** `timeout_seconds` for the i-th create of `n`: latest-due first, ending `firstDue` after the last. */
export function plantTimeout(
  i: number,
  n: number,
  plan: { firstDueSeconds: number; horizonSeconds: number; ratePerSecond: number },
): number {
  const slot = n - 1 - i;
  const offset = plan.firstDueSeconds + (slot * plan.horizonSeconds) / n;
  const untilEnd = (n - i) / plan.ratePerSecond;
  return Math.min(MAX_TIMEOUT_SECONDS, Math.max(MIN_TIMEOUT_SECONDS, Math.round(untilEnd + offset)));
}

export async function runTimers(options: TimersOptions): Promise<TimersReport> {
  const label = runLabel('timers');
  const room = await ensureRoom(options.http, options.pending + options.concurrency, options.pool);
  let report: TimersReport;
  let cleanup = { released: 0, left: -1 };
  try {
    report = await measure(options, label, room);
  } finally {
    // Also after a failure or Ctrl-C: nothing planted is left holding the pool.
    cleanup = await releaseRun(options.http, label.query).catch(() => ({ released: 0, left: -1 }));
    await restoreRoom(options.http, room).catch(() => {});
  }
  return { ...report, cleanup };
}

async function measure(
  options: TimersOptions,
  label: ReturnType<typeof runLabel>,
  room: PoolRoom,
): Promise<TimersReport> {
  const { http, signal } = options;
  const log = options.log ?? (() => {});
  const grace = options.graceSeconds ?? 5;
  const startedAt = new Date();
  // Untimed: a fresh stack's first creates are slow (JIT, connection pools) and would inflate the baseline.
  const warmUp = await createScenario.prepare({ target: options.target, http });
  for (let i = 0; i < WARMUP_CREATES; i++) await warmUp.task({ index: i, scheduledAt: 0, mark: () => {} });
  await warmUp.close();
  log(`timers: baseline, ${options.rate}/s for ${options.durationSeconds} s`);
  const baseline = await createPhase(options);

  log(`timers: planting ${options.pending} sessions (label ${label.query})`);
  const plantStart = performance.now();
  let admitted = 0;
  const planted = await createMany(http, {
    count: options.pending,
    label,
    concurrency: options.plantConcurrency,
    keepAliveSeconds: 600,
    signal,
    onCreated: (n) => (admitted = n),
    timeoutSeconds: (i) => {
      const elapsed = (performance.now() - plantStart) / 1000;
      // Until a few answers came back, a guess; the window's sessions go last, on a good estimate.
      const rate = admitted >= 20 && elapsed > 0 ? admitted / elapsed : 100;
      return plantTimeout(i, options.pending, { ...options, ratePerSecond: rate });
    },
  });
  signal?.throwIfAborted();
  const plantSeconds = (performance.now() - plantStart) / 1000;
  const skew = planted.skewMs ?? 0;
  log(`timers: planted ${planted.counts.admitted} in ${plantSeconds.toFixed(1)} s; waiting for RUNNING`);
  await waitUntilStarted(http, label.query, Math.max(300_000, options.pending * 50), signal);
  const startedSeconds = (performance.now() - plantStart) / 1000 - plantSeconds;
  // A session's clock starts at PROVISIONING, so a backlog there moves every expiry later: the
  // window is counted from when the last planted session started, on the server's clock.
  const startedServer = Date.now() + skew;
  const metrics = await scrapeMetrics(http, options.metricsToken);
  const delayedJobs = metrics
    ? metricValue(metrics, 'ventus_queue_jobs', { queue: 'lifecycle', state: 'delayed' })
    : null;

  log(`timers: armed, ${options.rate}/s for ${options.durationSeconds} s`);
  const armed = await createPhase(options);

  const windowEnd = startedServer + (options.firstDueSeconds + options.windowSeconds) * 1000;
  const wait = windowEnd - skew + grace * 1000 - Date.now();
  log(`timers: waiting ${Math.max(0, wait / 1000).toFixed(0)} s for the window's expiries`);
  await sleep(Math.max(0, wait), signal);
  const readAt = Date.now() + skew;
  const sessions = await listRun(http, label.query);

  const lateness: number[] = [];
  let expired = 0;
  let notEnded = 0;
  let endedOtherwise = 0;
  let stillPending = 0;
  for (const s of sessions) {
    const due = Date.parse(s.expires_at);
    if (due > windowEnd) {
      stillPending++;
    } else if (s.status === 'EXPIRED' && s.release_reason === 'timeout' && s.released_at) {
      expired++;
      lateness.push(Date.parse(s.released_at) - due);
    } else if (s.released_at === null) {
      notEnded++;
      lateness.push(Math.max(readAt - due, 1001));
    } else {
      endedOtherwise++;
    }
  }
  const within = lateness.filter((ms) => ms <= 1000).length;
  const counted = expired + notEnded;
  const withinRate = counted > 0 ? within / counted : null;
  const p99Ratio =
    baseline.latency.p99 && armed.latency.p99 !== null ? armed.latency.p99 / baseline.latency.p99 : null;
  return {
    scenario: 'timers',
    description: TIMERS_DESCRIPTION,
    config: {
      pending: options.pending,
      rate: options.rate,
      durationSeconds: options.durationSeconds,
      concurrency: options.concurrency,
      plantConcurrency: options.plantConcurrency,
      windowSeconds: options.windowSeconds,
      firstDueSeconds: options.firstDueSeconds,
      horizonSeconds: options.horizonSeconds,
      graceSeconds: grace,
    },
    environment: {
      target: options.target,
      driver: options.driver,
      machine: machine(),
      date: startedAt.toISOString(),
    },
    plant: {
      ...planted.counts,
      seconds: Math.round(plantSeconds * 1000) / 1000,
      rate: Math.round((planted.counts.admitted / plantSeconds) * 10) / 10,
      startedSeconds: Math.round(startedSeconds * 1000) / 1000,
      delayedJobs,
    },
    baseline,
    armed,
    p99Ratio: p99Ratio === null ? null : Math.round(p99Ratio * 1000) / 1000,
    expiry: {
      windowEnd: new Date(windowEnd).toISOString(),
      due: expired + notEnded + endedOtherwise,
      expired,
      notEnded,
      endedOtherwise,
      stillPending,
      lateness: latencyStats(lateness),
      withinOneSecond: within,
      withinOneSecondRate: withinRate,
      samples: lateness,
    },
    targets: {
      withinOneSecond: { limit: 0.99, met: withinRate === null ? null : withinRate >= 0.99 },
      p99Ratio: { limit: 1.1, met: p99Ratio === null ? null : p99Ratio <= 1.1 },
    },
    pool: {
      note: room.note,
      refused: {
        plant: planted.counts.refused,
        baseline: baseline.outcomes['503'] ?? 0,
        armed: armed.outcomes['503'] ?? 0,
      },
    },
    cleanup: { released: 0, left: 0 },
    notes: [
      ...(options.notes ?? []),
      `Planted sessions carry the label \`${label.query}\`, keep_alive_seconds 600, and timeouts of ${MIN_TIMEOUT_SECONDS}–${MAX_TIMEOUT_SECONDS} s (the API's range), so the first expiry is at least ${MIN_TIMEOUT_SECONDS} s after planting ends.`,
      `${WARMUP_CREATES} untimed creates go first (a fresh stack's first ones are slow). ` +
        'Lateness is the server’s `released_at` − `expires_at` (both from Postgres’ clock). A due session not ended when read counts as late, by at least the time it had been due.',
    ],
  };
}
