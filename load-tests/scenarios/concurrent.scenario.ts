/**
 * `concurrent`: many sessions held at once, over the public API only. Creates N (long timeout,
 * keep-alive, bounded concurrency), waits until none is still starting (polling the list
 * endpoint, one request per round), then runs open-loop `GET /v1/sessions/{id}` of a random one of
 * them, and reads the service's resident memory (`process_resident_memory_bytes` from /metrics)
 * before creating, once they all run, and after the GETs. Every session is released at the end,
 * also after a failure or Ctrl-C.
 */
import type { RunEnvironment } from '../harness/environment.ts';
import { machine } from '../harness/environment.ts';
import { networkOutcome, type HttpClient } from '../harness/http-client.ts';
import { latencyStats, type LatencyStats } from '../harness/report.ts';
import { OpenLoop } from '../harness/scheduler.ts';
import {
  createMany,
  ensureRoom,
  listRun,
  releaseRun,
  residentMemory,
  restoreRoom,
  runLabel,
  waitUntilStarted,
  type CreateCounts,
  type PoolRoom,
} from './fleet.ts';
import { unexpected } from './scenario.ts';

export interface ConcurrentOptions {
  http: HttpClient;
  target: string;
  driver: RunEnvironment['driver'];
  sessions: number;
  /** GETs per second. */
  rate: number;
  durationSeconds: number;
  concurrency: number;
  /** Creates in flight while filling. */
  createConcurrency: number;
  pool?: string;
  metricsToken?: string;
  notes?: string[];
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface ConcurrentReport {
  scenario: 'concurrent';
  description: string;
  config: {
    sessions: number;
    rate: number;
    durationSeconds: number;
    concurrency: number;
    createConcurrency: number;
  };
  environment: RunEnvironment;
  create: CreateCounts & { seconds: number; rate: number; startedSeconds: number; running: number };
  get: {
    scheduled: number;
    outcomes: Record<string, number>;
    errors: number;
    latency: LatencyStats;
    samples: number[];
  };
  /** Bytes; null where /metrics did not answer (a token is needed, or it is blocked). */
  rss: { before: number | null; running: number | null; afterGets: number | null };
  targets: {
    getP99: { limitMs: 10; met: boolean | null };
    rss: { limitBytes: number; met: boolean | null };
  };
  pool: { note: string };
  cleanup: { released: number; left: number };
  notes: string[];
}

export const CONCURRENT_DESCRIPTION =
  'N sessions held at once: open-loop GET /v1/sessions/{id} of a random one of them, and the service’s ' +
  'resident memory before, with all of them running, and after the GETs; all over the public API.';

const RSS_LIMIT = 200 * 2 ** 20;

export async function runConcurrent(options: ConcurrentOptions): Promise<ConcurrentReport> {
  const label = runLabel('concurrent');
  const before = await residentMemory(options.http, options.metricsToken);
  const room = await ensureRoom(options.http, options.sessions, options.pool);
  let report: ConcurrentReport;
  let cleanup = { released: 0, left: -1 };
  try {
    report = await measure(options, label, room, before);
  } finally {
    // Also after a failure or Ctrl-C: nothing created is left holding the pool.
    cleanup = await releaseRun(options.http, label.query).catch(() => ({ released: 0, left: -1 }));
    await restoreRoom(options.http, room).catch(() => {});
  }
  return { ...report, cleanup };
}

async function measure(
  options: ConcurrentOptions,
  label: ReturnType<typeof runLabel>,
  room: PoolRoom,
  rssBefore: number | null,
): Promise<ConcurrentReport> {
  const { http, signal } = options;
  const log = options.log ?? (() => {});
  const startedAt = new Date();
  log(`concurrent: creating ${options.sessions} sessions (label ${label.query})`);
  const t0 = performance.now();
  const created = await createMany(http, {
    count: options.sessions,
    label,
    concurrency: options.createConcurrency,
    // Long enough to outlive the run; released at its end anyway.
    timeoutSeconds: () => 3600,
    keepAliveSeconds: 600,
    signal,
  });
  signal?.throwIfAborted();
  const createSeconds = (performance.now() - t0) / 1000;
  log(
    `concurrent: ${created.counts.admitted} admitted in ${createSeconds.toFixed(1)} s; waiting for RUNNING`,
  );
  await waitUntilStarted(http, label.query, Math.max(300_000, options.sessions * 50), signal);
  const startedSeconds = (performance.now() - t0) / 1000 - createSeconds;
  const running = (await listRun(http, label.query, 'RUNNING')).map((s) => s.id);
  const rssRunning = await residentMemory(http, options.metricsToken);
  if (running.length === 0) throw new Error('concurrent: no session reached RUNNING');

  log(
    `concurrent: GET at ${options.rate}/s for ${options.durationSeconds} s over ${running.length} sessions`,
  );
  const loop = new OpenLoop({
    rate: options.rate,
    durationMs: options.durationSeconds * 1000,
    concurrency: options.concurrency,
    async task() {
      if (signal?.aborted) return { outcome: 'aborted', error: true };
      const id = running[Math.floor(Math.random() * running.length)]!;
      try {
        const res = await http.request('GET', `/v1/sessions/${encodeURIComponent(id)}`);
        return res.status === 200 ? { outcome: '200' } : unexpected(res);
      } catch (err) {
        return { ...networkOutcome(err), error: true };
      }
    },
  });
  const result = await loop.run();
  signal?.throwIfAborted();
  const rssAfter = await residentMemory(http, options.metricsToken);
  const outcomes: Record<string, number> = { '200': 0 };
  for (const s of result.samples) outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
  const ok = result.samples.filter((s) => s.outcome === '200').map((s) => s.latencyMs!);
  const latency = latencyStats(ok);
  const rssValues = [rssBefore, rssRunning, rssAfter].filter((v): v is number => v !== null);
  const rssMax = rssValues.length > 0 ? Math.max(...rssValues) : null;
  return {
    scenario: 'concurrent',
    description: CONCURRENT_DESCRIPTION,
    config: {
      sessions: options.sessions,
      rate: options.rate,
      durationSeconds: options.durationSeconds,
      concurrency: options.concurrency,
      createConcurrency: options.createConcurrency,
    },
    environment: {
      target: options.target,
      driver: options.driver,
      machine: machine(),
      date: startedAt.toISOString(),
    },
    create: {
      ...created.counts,
      seconds: Math.round(createSeconds * 1000) / 1000,
      rate: Math.round((created.counts.admitted / createSeconds) * 10) / 10,
      startedSeconds: Math.round(startedSeconds * 1000) / 1000,
      running: running.length,
    },
    get: {
      scheduled: result.samples.length,
      outcomes,
      errors: result.samples.filter((s) => s.error).length,
      latency,
      samples: ok.map((v) => Math.round(v * 1000) / 1000),
    },
    rss: { before: rssBefore, running: rssRunning, afterGets: rssAfter },
    targets: {
      getP99: { limitMs: 10, met: latency.p99 === null ? null : latency.p99 <= 10 },
      rss: { limitBytes: RSS_LIMIT, met: rssMax === null ? null : rssMax <= RSS_LIMIT },
    },
    pool: { note: room.note },
    cleanup: { released: 0, left: 0 },
    notes: [
      ...(options.notes ?? []),
      'RSS is `process_resident_memory_bytes` of the process answering /metrics at the target. In the single-process ' +
        '`ventus up` stack that is the whole service (broker, workers, pool controller and proxy in one process), so ' +
        'the figure is an upper bound for the broker; behind a load balancer it is one broker replica’s.',
      `Sessions carry the label \`${label.query}\`, timeout_seconds 3600 and keep_alive_seconds 600; all are released at the end.`,
      ...(options.sessions < 10_000
        ? [`The target is stated for 10,000 concurrent sessions; this run held ${running.length}.`]
        : []),
    ],
  };
}
