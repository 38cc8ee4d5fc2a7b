/**
 * Every Prometheus metric the system exports, defined once on a per-process registry. Counters and
 * histograms are recorded where things happen (broker, workers, proxy, controller); the pool and
 * queue gauges are read from Redis and Postgres at scrape time, so every process reports the same
 * truth whichever process changed it. Names are prefixed `ventus_`; Node's default process metrics
 * keep their standard names (`process_*`, `nodejs_*`) so stock dashboards work unchanged.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds: a warm claim takes milliseconds, a cold start or a slow job tens of seconds. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds: starting a browser (warm-up, time-to-RUNNING on a cold start) takes 0.2 s to a minute. */
export const STARTUP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120];

export type ClaimKind = 'warm' | 'cold';
export type JobOutcome = 'completed' | 'retry' | 'failed';
export type CdpDirection = 'client_to_pod' | 'pod_to_client';

/** One pool's state as read at scrape time. */
export interface PoolSnapshot {
  pool: string;
  /** Warm pods ready to claim (the warm list). */
  ready: number;
  /** Pods the controller is starting (the starting set). */
  warming: number;
  /** Pods bound to an admitted session (claimed warm or cold-started). */
  held: number;
  /** Sessions holding a slot: admitted and not yet freed. */
  admitted: number;
  maxTotal: number;
  minReady: number;
}

export interface QueueSnapshot {
  queue: string;
  counts: Record<'waiting' | 'delayed' | 'active' | 'failed', number>;
}

/** Where the scrape-time gauges read from (Redis and Postgres in a process; fixed data in a test). */
export interface MetricsSources {
  pools(): Promise<PoolSnapshot[]>;
  queues(): Promise<QueueSnapshot[]>;
}

export interface Metrics {
  readonly registry: Registry;
  /** Session creates that reached admission, by pool and outcome (`admitted` | `full`). */
  readonly admissions: Counter<'pool' | 'outcome'>;
  /** Session creates answered 503 insufficient-capacity. */
  readonly insufficientCapacity: Counter<'pool'>;
  /** QUEUED/PROVISIONING until a usable pod is held: a warm claim or a cold start. */
  readonly claimSeconds: Histogram<'pool' | 'kind'>;
  /** Session created_at until RUNNING. */
  readonly timeToRunningSeconds: Histogram<'pool' | 'kind'>;
  /** From when a job was due (added, or its delay elapsed) to when a worker started it (first attempt). */
  readonly jobWaitSeconds: Histogram<'queue' | 'job'>;
  /** How long one attempt ran, by outcome (`completed`, `retry`, `failed` for good). */
  readonly jobDurationSeconds: Histogram<'queue' | 'job' | 'outcome'>;
  /** CDP WebSocket connections open through this process. */
  readonly cdpConnections: Gauge;
  readonly cdpConnectionsTotal: Counter;
  /** CDP upgrades refused, by HTTP status. */
  readonly cdpRefused: Counter<'status'>;
  readonly cdpBytes: Counter<'direction'>;
  /** Live view (VNC) viewers open through this process. */
  readonly liveViewers: Gauge;
  /** Live view page loads and VNC upgrades refused, by HTTP status. */
  readonly liveViewRefused: Counter<'status'>;
  /** Input messages (keys, pointer, clipboard…) of read-only viewers dropped by the proxy. */
  readonly liveViewInputDropped: Counter;
  /** Time for a pod to become ready: `warm` (controller) or `cold` (a worker, for one session). */
  readonly podStartSeconds: Histogram<'pool' | 'kind'>;
  /** Pods nobody referenced, deleted by the controller. */
  readonly orphansReaped: Counter<'pool'>;
  /** Scrape-time reads that failed or timed out (their gauges are left out of that scrape). */
  readonly collectFailures: Counter<'source'>;
  /** The exposition text (Prometheus text format 0.0.4). */
  render(): Promise<string>;
  readonly contentType: string;
  close(): void;
}

/** Shares one read among every gauge that asks during a scrape; a failure yields `undefined`. */
function sharedRead<T>(
  read: () => Promise<T>,
  onError: (err: unknown) => void,
): () => Promise<T | undefined> {
  let inFlight: Promise<T | undefined> | undefined;
  return () =>
    (inFlight ??= read()
      .catch((err: unknown) => {
        onError(err);
        return undefined;
      })
      .finally(() => {
        inFlight = undefined;
      }));
}

type PoolField = Exclude<keyof PoolSnapshot, 'pool'>;

const POOL_GAUGES: [string, PoolField, string][] = [
  ['ventus_pool_ready', 'ready', 'Warm pods ready to claim, per pool'],
  ['ventus_pool_warming', 'warming', 'Pods the pool controller is starting (warming up), per pool'],
  ['ventus_pool_held', 'held', 'Pods held by admitted sessions (claimed warm or cold-started), per pool'],
  ['ventus_pool_admitted', 'admitted', 'Sessions holding a slot of the pool (admitted, not yet freed)'],
  ['ventus_pool_max_total', 'maxTotal', 'The pool setting max_total: pods (warm or held) at most'],
  ['ventus_pool_min_ready', 'minReady', 'The pool setting min_ready: warm pods the controller keeps'],
];

/**
 * Creates the process's registry and metrics. Without `sources` the pool and queue gauges report
 * nothing (a process that has no Redis or Postgres to read).
 */
export function createMetrics(sources?: MetricsSources, onCollectError?: (err: unknown) => void): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const failed = (source: string) => (err: unknown) => {
    collectFailures.inc({ source });
    onCollectError?.(err);
  };
  const readPools = sharedRead(() => sources?.pools() ?? Promise.resolve([]), failed('pools'));
  const readQueues = sharedRead(() => sources?.queues() ?? Promise.resolve([]), failed('queues'));
  const collectFailures = new Counter({
    name: 'ventus_metrics_collect_failures_total',
    help: 'Scrape-time reads of pool or queue state that failed or timed out',
    labelNames: ['source'] as const,
    registers,
    // Waits for this scrape's reads (shared with the gauges), so a failure shows in the same scrape.
    async collect() {
      await Promise.all([readPools(), readQueues()]);
    },
  });

  for (const [name, field, help] of POOL_GAUGES) {
    new Gauge({
      name,
      help,
      labelNames: ['pool'] as const,
      registers,
      async collect() {
        const pools = await readPools();
        this.reset();
        for (const p of pools ?? []) this.set({ pool: p.pool }, p[field]);
      },
    });
  }
  new Gauge({
    name: 'ventus_queue_jobs',
    help: 'Jobs per BullMQ queue and state (waiting, delayed, active, failed)',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      const queues = await readQueues();
      this.reset();
      for (const q of queues ?? [])
        for (const [state, n] of Object.entries(q.counts)) this.set({ queue: q.queue, state }, n);
    },
  });

  return {
    registry,
    admissions: new Counter({
      name: 'ventus_admissions_total',
      help: 'Session creates that reached admission, by pool and outcome (admitted, full, quota)',
      labelNames: ['pool', 'outcome'] as const,
      registers,
    }),
    insufficientCapacity: new Counter({
      name: 'ventus_insufficient_capacity_total',
      help: 'Session creates answered 503 insufficient-capacity, per pool',
      labelNames: ['pool'] as const,
      registers,
    }),
    claimSeconds: new Histogram({
      name: 'ventus_claim_seconds',
      help: 'Time for a provision job to hold a usable pod with the session claimed on it (its settings applied), by kind (warm claim, cold start)',
      labelNames: ['pool', 'kind'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    timeToRunningSeconds: new Histogram({
      name: 'ventus_time_to_running_seconds',
      help: 'Session created_at until RUNNING, by pool and kind of pod (warm, cold)',
      labelNames: ['pool', 'kind'] as const,
      buckets: STARTUP_BUCKETS,
      registers,
    }),
    jobWaitSeconds: new Histogram({
      name: 'ventus_job_wait_seconds',
      help: 'Delay between a job being due and a worker starting it (first attempt), per queue and job',
      labelNames: ['queue', 'job'] as const,
      buckets: [0.001, ...LATENCY_BUCKETS],
      registers,
    }),
    jobDurationSeconds: new Histogram({
      name: 'ventus_job_duration_seconds',
      help: 'Processing time of one job attempt, per queue, job and outcome (completed, retry, failed)',
      labelNames: ['queue', 'job', 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    cdpConnections: new Gauge({
      name: 'ventus_cdp_connections',
      help: 'CDP WebSocket connections open through this process',
      registers,
    }),
    cdpConnectionsTotal: new Counter({
      name: 'ventus_cdp_connections_total',
      help: 'CDP WebSocket connections accepted by this process',
      registers,
    }),
    cdpRefused: new Counter({
      name: 'ventus_cdp_refused_total',
      help: 'CDP WebSocket upgrades refused, by HTTP status',
      labelNames: ['status'] as const,
      registers,
    }),
    cdpBytes: new Counter({
      name: 'ventus_cdp_bytes_total',
      help: 'Bytes proxied over CDP connections, by direction (client_to_pod, pod_to_client)',
      labelNames: ['direction'] as const,
      registers,
    }),
    liveViewers: new Gauge({
      name: 'ventus_live_view_viewers',
      help: 'Live view (VNC) viewers open through this process',
      registers,
    }),
    liveViewRefused: new Counter({
      name: 'ventus_live_view_refused_total',
      help: 'Live view page loads and VNC WebSocket upgrades refused, by HTTP status',
      labelNames: ['status'] as const,
      registers,
    }),
    liveViewInputDropped: new Counter({
      name: 'ventus_live_view_input_dropped_total',
      help: 'Input messages of read-only live view viewers dropped by the proxy',
      registers,
    }),
    podStartSeconds: new Histogram({
      name: 'ventus_pod_start_seconds',
      help: 'Time for a pod to become ready, by pool and kind (warm: controller, cold: for one session)',
      labelNames: ['pool', 'kind'] as const,
      buckets: STARTUP_BUCKETS,
      registers,
    }),
    orphansReaped: new Counter({
      name: 'ventus_orphans_reaped_total',
      help: 'Pods no warm list, start or session referenced, deleted by the pool controller',
      labelNames: ['pool'] as const,
      registers,
    }),
    collectFailures,
    render: () => registry.metrics(),
    contentType: registry.contentType,
    close: () => registry.clear(),
  };
}
