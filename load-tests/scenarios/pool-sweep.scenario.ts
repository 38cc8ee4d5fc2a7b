/**
 * `pool-sweep`: what an operator tuning a pool reads. For each `max_total:min_ready` setting:
 * PATCH the pool, wait until it settles (no session admitted, `ready == min_ready`, nothing
 * warming), then run Poisson arrivals of `POST /v1/sessions` for the duration; each admitted
 * session is polled to RUNNING and released `sessionSeconds` after its 202. Measured: the 503
 * rate, time-to-RUNNING, and warm vs cold as the client sees it; predicted: Erlang-B with the
 * offered load rate × session length (503s) and rate × the pool's warm-up time (warm hits).
 *
 * Needs a key with the `operator` scope (PATCH /v1/pools/{name}); the pool's settings from before
 * the sweep are put back at the end, whatever happened.
 */
import { predict } from '../../core/capacity/erlang-b.ts';
import type { RunEnvironment } from '../harness/environment.ts';
import { machine } from '../harness/environment.ts';
import { networkOutcome, type HttpClient } from '../harness/http-client.ts';
import { latencyStats, type LatencyStats } from '../harness/report.ts';
import { OpenLoop } from '../harness/scheduler.ts';
import { isFailure, waitForRunning } from './session-life.ts';
import { createSession, Pending, releaseSession, unexpected, type SessionView } from './scenario.ts';

const SETTLE_TIMEOUT_MS = 120_000;
const SETTLE_POLL_MS = 200;
const WARMUP_SESSIONS = 3;

export interface PoolSetting {
  maxTotal: number;
  minReady: number;
}

/** `4:1,6:2` -> settings; a string says what is wrong. */
export function parseSettings(raw: string): PoolSetting[] | string {
  const settings: PoolSetting[] = [];
  for (const part of raw.split(',')) {
    const match = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(part);
    if (!match) return `"${part}" is not max_total:min_ready`;
    const setting = { maxTotal: Number(match[1]), minReady: Number(match[2]) };
    if (setting.maxTotal < 1 || setting.minReady > setting.maxTotal) {
      return `"${part}": expected 1 <= max_total and min_ready <= max_total`;
    }
    settings.push(setting);
  }
  return settings;
}

export interface PoolSweepOptions {
  http: HttpClient;
  target: string;
  driver: RunEnvironment['driver'];
  /** The pool to tune; default: the only pool there is. */
  pool?: string;
  settings: PoolSetting[];
  /** Arrivals per second (Poisson). */
  rate: number;
  durationSeconds: number;
  /** How long each admitted session is kept, from its 202. */
  sessionSeconds: number;
  concurrency: number;
  seed?: number;
  notes?: string[];
  /** One line per phase (settling, running…), for a progress display. */
  log?: (line: string) => void;
}

interface PoolView {
  name: string;
  min_ready: number;
  max_total: number;
  status: { ready: number; warming: number; admitted: number; warmup_ms: number | null };
}

export interface SweepSample {
  scheduledMs: number;
  outcome: string;
  /** POST sent -> first GET showing RUNNING, for admitted sessions. */
  toRunningMs: number | null;
  /** First transition -> RUNNING, from the session's transitions: no polling or client delay in it. */
  serverToRunningMs: number | null;
  /** Warm claim or cold start, by `serverToRunningMs` against the threshold. */
  kind: 'warm' | 'cold' | null;
  detail?: string;
}

export interface SweepRow {
  setting: PoolSetting;
  /** The pool's median warm-up when the run began (GET /v1/pools/{name} `status.warmup_ms`). */
  warmupMs: number | null;
  /** A server-side time-to-RUNNING below this counts as a warm claim. */
  coldThresholdMs: number;
  arrivals: number;
  admitted: number;
  refused: number;
  errors: number;
  measured: { rate503: number | null; warmHitRate: number | null; warm: number; cold: number };
  predicted: { rate503: number; warmHitRate: number; offeredLoad: number; warmOfferedLoad: number };
  timeToRunningMs: { all: LatencyStats; warm: LatencyStats; cold: LatencyStats };
  samples: SweepSample[];
}

export interface PoolSweepReport {
  scenario: 'pool-sweep';
  description: string;
  config: {
    pool: string;
    rate: number;
    durationSeconds: number;
    sessionSeconds: number;
    arrivals: 'poisson';
    seed: number;
  };
  environment: RunEnvironment;
  /** The settings before the sweep (restored after it). */
  original: PoolSetting;
  rows: SweepRow[];
  notes: string[];
}

export const POOL_SWEEP_DESCRIPTION =
  'Per pool setting: Poisson arrivals of POST /v1/sessions, each admitted session held for a fixed time; ' +
  'measured 503 rate, time-to-RUNNING and warm hits against the Erlang-B prediction.';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getPool(http: HttpClient, name: string): Promise<PoolView> {
  const res = await http.request('GET', `/v1/pools/${encodeURIComponent(name)}`);
  if (res.status !== 200) throw new Error(`GET /v1/pools/${name}: ${unexpected(res).detail}`);
  return res.body as PoolView;
}

async function patchPool(http: HttpClient, name: string, s: PoolSetting): Promise<void> {
  const res = await http.request('PATCH', `/v1/pools/${encodeURIComponent(name)}`, {
    body: { max_total: s.maxTotal, min_ready: s.minReady },
  });
  if (res.status !== 200) throw new Error(`PATCH /v1/pools/${name}: ${unexpected(res).detail}`);
}

/** The pool named, or the only one. A 403 here means the key lacks the operator scope. */
export async function resolvePool(http: HttpClient, name: string | undefined): Promise<string> {
  if (name) return (await getPool(http, name)).name;
  const res = await http.request('GET', '/v1/pools');
  if (res.status === 403)
    throw new Error('GET /v1/pools answered 403: pool-sweep needs a key with the operator scope');
  if (res.status !== 200) throw new Error(`GET /v1/pools: ${unexpected(res).detail}`);
  const pools = (res.body as { items: PoolView[] }).items;
  if (pools.length !== 1) {
    throw new Error(`${pools.length} pools (${pools.map((p) => p.name).join(', ')}): pass --pool`);
  }
  return pools[0]!.name;
}

/** No session admitted, `min_ready` warm pods ready and none starting. */
async function settle(http: HttpClient, name: string, s: PoolSetting): Promise<PoolView> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const pool = await getPool(http, name);
    const { ready, warming, admitted } = pool.status;
    if (admitted === 0 && warming === 0 && ready === s.minReady) return pool;
    if (performance.now() > deadline) {
      throw new Error(
        `pool ${name} did not settle at ${s.maxTotal}:${s.minReady} within ${SETTLE_TIMEOUT_MS / 1000} s ` +
          `(ready ${ready}, warming ${warming}, admitted ${admitted})`,
      );
    }
    await sleep(SETTLE_POLL_MS);
  }
}

/** The server's time-to-RUNNING (GET /v1/sessions/{id}/transitions), or null if unavailable. */
async function serverToRunning(http: HttpClient, id: string): Promise<number | null> {
  const res = await http
    .request('GET', `/v1/sessions/${encodeURIComponent(id)}/transitions`)
    .catch(() => undefined);
  const items =
    (res?.status === 200 ? (res.body as { items?: Array<{ to: string; at: string }> }).items : undefined) ??
    [];
  const running = items.find((t) => t.to === 'RUNNING');
  return running && items[0] ? Date.parse(running.at) - Date.parse(items[0].at) : null;
}

async function runSetting(
  options: PoolSweepOptions,
  pool: string,
  s: PoolSetting,
  seed: number,
): Promise<SweepRow> {
  const { http } = options;
  await patchPool(http, pool, s);
  const settled = await settle(http, pool, s);
  const warmupMs = settled.status.warmup_ms;
  // Warm claims answer in tens of ms and cold starts take about the warm-up time; halfway splits them.
  const coldThresholdMs = warmupMs !== null ? warmupMs / 2 : 150;
  options.log?.(`pool-sweep ${s.maxTotal}:${s.minReady}: settled (warm-up ${warmupMs ?? '?'} ms), running`);
  const releases = new Pending();
  const toRunning = new Map<number, { client: number; server: number | null }>();
  const loop = new OpenLoop({
    rate: options.rate,
    durationMs: options.durationSeconds * 1000,
    concurrency: options.concurrency,
    arrivals: 'poisson',
    seed,
    async task({ index, scheduledAt }) {
      let res;
      try {
        res = await createSession(http);
      } catch (err) {
        return { ...networkOutcome(err), error: true };
      }
      if (res.status === 503) return { outcome: '503' };
      if (res.status !== 202) return unexpected(res);
      const admittedAt = performance.now();
      const { id } = res.body as SessionView;
      // Held for the session length from admission, RUNNING or not; released in the background.
      releases.add(
        (async () => {
          await sleep(Math.max(0, admittedAt + options.sessionSeconds * 1000 - performance.now()));
          await releaseSession(http, id);
        })(),
      );
      const running = await waitForRunning(http, id);
      if (isFailure(running)) return running;
      const client = performance.now() - scheduledAt;
      const server = await serverToRunning(http, id);
      toRunning.set(index, { client, server });
      return { outcome: '202' };
    },
  });
  const result = await loop.run();
  await releases.drain();
  const samples: SweepSample[] = result.samples.map((x) => {
    const t = toRunning.get(x.index);
    // Classified on the server's span when the API gives it: a warm claim slowed by the client's
    // polling (or a busy load generator) must not count as a cold start.
    const split = t ? (t.server ?? t.client) : null;
    return {
      scheduledMs: Math.round(x.scheduledMs * 10) / 10,
      outcome: x.outcome,
      toRunningMs: t ? Math.round(t.client * 100) / 100 : null,
      serverToRunningMs: t?.server ?? null,
      kind: split === null ? null : split < coldThresholdMs ? 'warm' : 'cold',
      ...(x.detail !== undefined && { detail: x.detail }),
    };
  });
  const admitted = samples.filter((x) => x.outcome === '202').length;
  const refused = samples.filter((x) => x.outcome === '503').length;
  const warm = samples.filter((x) => x.kind === 'warm');
  const cold = samples.filter((x) => x.kind === 'cold');
  const predicted = predict(
    {
      arrivalRatePerSecond: options.rate,
      meanSessionSeconds: options.sessionSeconds,
      startSeconds: (warmupMs ?? 0) / 1000,
    },
    s,
  );
  const ms = (xs: SweepSample[]) => latencyStats(xs.map((x) => x.toRunningMs!));
  return {
    setting: s,
    warmupMs,
    coldThresholdMs,
    arrivals: samples.length,
    admitted,
    refused,
    errors: samples.length - admitted - refused,
    measured: {
      rate503: admitted + refused > 0 ? refused / (admitted + refused) : null,
      warmHitRate: warm.length + cold.length > 0 ? warm.length / (warm.length + cold.length) : null,
      warm: warm.length,
      cold: cold.length,
    },
    predicted: {
      rate503: predicted.rate503,
      warmHitRate: predicted.warmHitRate,
      offeredLoad: options.rate * options.sessionSeconds,
      warmOfferedLoad: (options.rate * (warmupMs ?? 0)) / 1000,
    },
    timeToRunningMs: { all: ms([...warm, ...cold]), warm: ms(warm), cold: ms(cold) },
    samples,
  };
}

/**
 * A few sessions one after another, not counted: a fresh stack's first claims and pod starts are
 * slower (cold code paths), and the first pod starts would skew the pool's warm-up median.
 */
async function warmUp(http: HttpClient): Promise<void> {
  for (let i = 0; i < WARMUP_SESSIONS; i++) {
    const created = await createSession(http);
    if (created.status !== 202) continue;
    const { id } = created.body as SessionView;
    await waitForRunning(http, id);
    await releaseSession(http, id);
  }
}

export async function runPoolSweep(options: PoolSweepOptions): Promise<PoolSweepReport> {
  const { http } = options;
  const pool = await resolvePool(http, options.pool);
  const before = await getPool(http, pool);
  const original = { maxTotal: before.max_total, minReady: before.min_ready };
  const seed = options.seed ?? 1;
  const rows: SweepRow[] = [];
  const startedAt = new Date();
  try {
    await warmUp(http);
    for (const [i, s] of options.settings.entries()) rows.push(await runSetting(options, pool, s, seed + i));
  } finally {
    await patchPool(http, pool, original).catch(() => {});
  }
  return {
    scenario: 'pool-sweep',
    description: POOL_SWEEP_DESCRIPTION,
    config: {
      pool,
      rate: options.rate,
      durationSeconds: options.durationSeconds,
      sessionSeconds: options.sessionSeconds,
      arrivals: 'poisson',
      seed,
    },
    environment: {
      target: options.target,
      driver: options.driver,
      machine: machine(),
      date: startedAt.toISOString(),
    },
    original,
    rows,
    notes: [
      ...(options.notes ?? []),
      'Each setting starts from an empty pool, so the first session length of a run sees fewer 503s than ' +
        'the steady state Erlang-B describes; short runs are noisy (a handful of arrivals per setting).',
      'Warm vs cold: a session whose server-side time-to-RUNNING (its transitions, from the API) is below half the pool’s ' +
        'warm-up time counts as a warm claim. Time-to-RUNNING is the client’s: POST sent -> first GET showing ' +
        'RUNNING (polled every 10 ms).',
    ],
  };
}
