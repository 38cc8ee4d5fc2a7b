/**
 * Many sessions held at once, over the public API only, for `timers` and `concurrent`: create them
 * with bounded concurrency under a label of the run's own, wait until none is still starting (by
 * listing, not one GET per session), list them, make room in the pool (operator key) and release
 * every one at the end. Also reads the service's resident memory from /metrics.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { networkOutcome, type HttpClient } from '../harness/http-client.ts';
import { percentiles } from '../stats.ts';
import { releaseSession, unexpected } from './scenario.ts';

/** The API's bounds on `timeout_seconds` (core/domain/session.schema.ts, /openapi.json). */
export const MIN_TIMEOUT_SECONDS = 60;
export const MAX_TIMEOUT_SECONDS = 86_400;
/** The list endpoint's largest page. */
const PAGE = 100;
const LIVE = 'QUEUED,PROVISIONING,RUNNING';
const STARTING = 'QUEUED,PROVISIONING';

export interface ListedSession {
  id: string;
  status: string;
  created_at: string;
  expires_at: string;
  released_at: string | null;
  release_reason: string | null;
}

/** A label that marks one run's sessions: `load_run:<scenario>-<random>`. */
export function runLabel(scenario: string): { key: string; value: string; query: string } {
  const value = `${scenario}-${randomBytes(5).toString('hex')}`;
  return { key: 'load_run', value, query: `load_run:${value}` };
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms);
    const onAbort = () => (clearTimeout(timer), reject(signal!.reason as Error));
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Every session of the run (optionally only some statuses), page by page. */
export async function listRun(
  http: HttpClient,
  label: string,
  statuses?: string,
  max = Infinity,
): Promise<ListedSession[]> {
  const out: ListedSession[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: String(Math.min(PAGE, max)), label });
    if (statuses) query.set('status', statuses);
    if (cursor) query.set('cursor', cursor);
    const res = await http.request('GET', `/v1/sessions?${query.toString()}`);
    if (res.status !== 200) throw new Error(`GET /v1/sessions: ${unexpected(res).detail}`);
    const page = res.body as { items: ListedSession[]; next_cursor: string | null };
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && out.length < max);
  return out;
}

/** Runs `fn` over `items` with at most `concurrency` at once. */
export async function eachLimited<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length && !signal?.aborted) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

export interface CreateCounts {
  admitted: number;
  refused: number;
  errors: number;
  /** First few error details. */
  errorDetails: string[];
}

/**
 * POSTs one session per element of `timeouts` (its `timeout_seconds`, or a function of the time
 * it is sent), `concurrency` at once, labelled. Returns the admitted sessions as the API answered.
 */
export async function createMany(
  http: HttpClient,
  options: {
    count: number;
    label: { key: string; value: string };
    concurrency: number;
    keepAliveSeconds: number;
    /** `timeout_seconds` for the i-th create, asked just before it is sent. */
    timeoutSeconds: (index: number) => number;
    signal?: AbortSignal;
    onCreated?: (done: number) => void;
  },
): Promise<{ sessions: ListedSession[]; counts: CreateCounts; skewMs: number | null }> {
  const sessions: ListedSession[] = [];
  const counts: CreateCounts = { admitted: 0, refused: 0, errors: 0, errorDetails: [] };
  const skews: number[] = [];
  const indices = Array.from({ length: options.count }, (_, i) => i);
  await eachLimited(
    indices,
    options.concurrency,
    async (i) => {
      const body = {
        timeout_seconds: options.timeoutSeconds(i),
        keep_alive_seconds: options.keepAliveSeconds,
        labels: { [options.label.key]: options.label.value },
      };
      const sent = Date.now();
      try {
        const res = await http.request('POST', '/v1/sessions', {
          body,
          headers: { 'idempotency-key': randomUUID() },
        });
        if (res.status === 202) {
          const session = res.body as ListedSession;
          sessions.push(session);
          counts.admitted++;
          // The server's clock against ours: created_at is taken while the request is in flight.
          skews.push(Date.parse(session.created_at) - (sent + Date.now()) / 2);
          options.onCreated?.(counts.admitted);
        } else if (res.status === 503) counts.refused++;
        else {
          counts.errors++;
          if (counts.errorDetails.length < 5) counts.errorDetails.push(unexpected(res).detail);
        }
      } catch (err) {
        counts.errors++;
        if (counts.errorDetails.length < 5) counts.errorDetails.push(networkOutcome(err).detail);
      }
    },
    options.signal,
  );
  return { sessions, counts, skewMs: skews.length > 0 ? percentiles(skews).p50 : null };
}

/** Polls (one list request per round) until none of the run's sessions is QUEUED or PROVISIONING. */
export async function waitUntilStarted(
  http: HttpClient,
  label: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const starting = await listRun(http, label, STARTING, 1);
    if (starting.length === 0) return;
    if (performance.now() > deadline) {
      throw new Error(`sessions still ${starting[0]!.status} after ${Math.round(timeoutMs / 1000)} s`);
    }
    await sleep(250, signal);
  }
}

/**
 * Releases every session of the run that has not ended (PATCH REQUEST_RELEASE, 16 at once), and
 * lists again until none is left or three rounds passed. Returns how many were released and how
 * many are left.
 */
export async function releaseRun(
  http: HttpClient,
  label: string,
): Promise<{ released: number; left: number }> {
  let released = 0;
  for (let round = 0; round < 3; round++) {
    const live = await listRun(http, label, LIVE);
    if (live.length === 0) return { released, left: 0 };
    await eachLimited(live, 16, async (s) => {
      const res = await releaseSession(http, s.id).catch(() => undefined);
      if (res?.status === 200) released++;
    });
  }
  return { released, left: (await listRun(http, label, LIVE)).length };
}

export interface PoolRoom {
  pool: string | null;
  /** The pool's max_total before the run, when the key may read pools. */
  maxTotalBefore: number | null;
  /** Set when the run raised max_total (and puts it back at the end). */
  raisedTo: number | null;
  note: string;
}

/**
 * With an operator key: the pool (the only one, or `name`) gets room for `needed` more sessions,
 * raising `max_total` when it lacks it. Without one: nothing is checked, and the note says so.
 */
export async function ensureRoom(http: HttpClient, needed: number, name?: string): Promise<PoolRoom> {
  const res = await http.request('GET', name ? `/v1/pools/${encodeURIComponent(name)}` : '/v1/pools');
  if (res.status === 403 || res.status === 401) {
    return {
      pool: null,
      maxTotalBefore: null,
      raisedTo: null,
      note:
        'The key has no operator scope: the pool’s room was not checked. A full pool answers 503 (counted in this report); ' +
        'give it max_total >= the sessions held plus the creates in flight.',
    };
  }
  if (res.status !== 200) throw new Error(`GET /v1/pools: ${unexpected(res).detail}`);
  type Pool = { name: string; max_total: number; status: { admitted: number } };
  const pools = name ? [res.body as Pool] : (res.body as { items: Pool[] }).items;
  if (pools.length !== 1) {
    throw new Error(`${pools.length} pools (${pools.map((p) => p.name).join(', ')}): pass --pool`);
  }
  const pool = pools[0]!;
  const want = pool.status.admitted + needed;
  if (pool.max_total >= want) {
    return {
      pool: pool.name,
      maxTotalBefore: pool.max_total,
      raisedTo: null,
      note: `Pool ${pool.name}: max_total ${pool.max_total} has room for the ${needed} sessions this run holds.`,
    };
  }
  const raisedTo = Math.min(100_000, want);
  const patched = await http.request('PATCH', `/v1/pools/${encodeURIComponent(pool.name)}`, {
    body: { max_total: raisedTo },
  });
  if (patched.status !== 200) throw new Error(`PATCH /v1/pools/${pool.name}: ${unexpected(patched).detail}`);
  return {
    pool: pool.name,
    maxTotalBefore: pool.max_total,
    raisedTo,
    note: `Pool ${pool.name}: max_total raised from ${pool.max_total} to ${raisedTo} for the run, put back after it.`,
  };
}

export async function restoreRoom(http: HttpClient, room: PoolRoom): Promise<void> {
  if (room.pool === null || room.raisedTo === null || room.maxTotalBefore === null) return;
  await http.request('PATCH', `/v1/pools/${encodeURIComponent(room.pool)}`, {
    body: { max_total: room.maxTotalBefore },
  });
}

/** GET /metrics (Prometheus text), or null when it does not answer 200. */
export async function scrapeMetrics(http: HttpClient, metricsToken?: string): Promise<string | null> {
  // Without a token /metrics takes no authorization: the API key is not sent where it is not needed.
  const res = await http
    .request('GET', '/metrics', { headers: { authorization: metricsToken ? `Bearer ${metricsToken}` : '' } })
    .catch(() => undefined);
  return res?.status === 200 && typeof res.body === 'string' ? res.body : null;
}

/** The value of the first sample of `name` whose labels include `labels`, or null. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_:][\w:]*)(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) return Number(match[3]);
  }
  return null;
}

/** `process_resident_memory_bytes` (prom-client's default metric) from GET /metrics, or null. */
export async function residentMemory(http: HttpClient, metricsToken?: string): Promise<number | null> {
  const text = await scrapeMetrics(http, metricsToken);
  return text === null ? null : metricValue(text, 'process_resident_memory_bytes');
}

/**
 * Turns SIGINT/SIGTERM into an abort of `controller` while `fn` runs, so its `finally` can release
 * what it holds; the signal is re-raised afterwards (exit 130/143) when one came.
 */
export async function withSignals<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    received = sig;
    process.stderr.write(`${sig}: releasing the run's sessions…\n`);
    controller.abort(new Error(`interrupted (${sig})`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (received) process.kill(process.pid, received);
  }
}
