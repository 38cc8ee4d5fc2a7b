/**
 * Pool sizing with Erlang-B, the Erlang loss formula. Pure: no I/O.
 *
 * A pool is a loss system: `max_total` slots, sessions arrive at some rate and hold a slot for
 * their length, and a request that finds every slot held is refused (503), not queued. With
 * Poisson arrivals the refused fraction is ErlangB(N, A) for N slots and offered load A =
 * arrival rate x mean holding time (in erlangs). The result depends on the holding time only
 * through its mean (Erlang-B is insensitive to the distribution), which is why it suits session
 * lengths that are anything but exponential.
 */

/** Larger than any pool; bounds the work of a call given absurd input. */
const MAX_SERVERS = 10_000_000;

function assertServers(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_SERVERS) {
    throw new RangeError(`${name} must be a whole number from 0 to ${MAX_SERVERS} (got ${value})`);
  }
}

function assertNonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite number >= 0 (got ${value})`);
  }
}

function assertPositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a finite number > 0 (got ${value})`);
  }
}

function assertFraction(name: string, value: number): void {
  // Written so that NaN fails too.
  if (!(value > 0 && value < 1)) {
    throw new RangeError(`${name} must be a fraction strictly between 0 and 1 (got ${value})`);
  }
}

/**
 * The probability that a request is refused: ErlangB(N, A) = (A^N / N!) / sum_{k=0..N} A^k / k!.
 * Computed with the recursion B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1)), whose terms stay in
 * [0, 1]: the factorial form overflows a double from N = 171 on.
 */
export function erlangB(servers: number, offeredLoadErlangs: number): number {
  assertServers('servers', servers);
  assertNonNegative('offered load', offeredLoadErlangs);
  const a = offeredLoadErlangs;
  let b = 1;
  for (let n = 1; n <= servers; n++) b = (a * b) / (n + a * b);
  return b;
}

/**
 * The largest offered load (erlangs) that `servers` slots carry with at most `blocking` refused:
 * the inverse of erlangB in A, found by bisection (erlangB increases with A). 0 servers carry none.
 */
export function maxOfferedLoad(servers: number, blocking: number): number {
  assertServers('servers', servers);
  assertFraction('blocking', blocking);
  if (servers === 0) return 0;
  let lo = 0;
  let hi = servers;
  while (erlangB(servers, hi) < blocking) hi *= 2;
  // About 50 halvings reach the precision of a double; the bound keeps the loop finite regardless.
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (erlangB(servers, mid) <= blocking) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** The fewest slots that refuse at most `targetBlocking` of an offered load; 0 for no load. */
export function serversFor(offeredLoadErlangs: number, targetBlocking: number): number {
  assertNonNegative('offered load', offeredLoadErlangs);
  assertFraction('target blocking', targetBlocking);
  if (offeredLoadErlangs > MAX_SERVERS) {
    throw new RangeError(`offered load must be at most ${MAX_SERVERS} erlangs (got ${offeredLoadErlangs})`);
  }
  if (offeredLoadErlangs === 0) return 0;
  const a = offeredLoadErlangs;
  let b = 1;
  let n = 0;
  // Same recursion as erlangB, stopping at the first N that meets the target.
  while (b > targetBlocking) {
    n++;
    b = (a * b) / (n + a * b);
  }
  return n;
}

export interface Traffic {
  /** Session requests per second (Poisson). */
  arrivalRatePerSecond: number;
  /** Mean time a session holds its slot, admission to end (seconds). */
  meanSessionSeconds: number;
  /** Time to start a pod until it is ready (seconds): how long a claimed warm pod's replacement takes. */
  startSeconds: number;
}

export interface Prediction {
  /** Fraction of requests refused with 503 (pool full). */
  rate503: number;
  /** Fraction of requests that claim a warm pod rather than waiting for a cold start. */
  warmHitRate: number;
}

function assertTraffic(t: Traffic): void {
  assertNonNegative('arrival rate', t.arrivalRatePerSecond);
  assertPositive('mean session length', t.meanSessionSeconds);
  assertNonNegative('start time', t.startSeconds);
}

/**
 * What a pool with these settings gives under this traffic. The controller keeps
 * `min(min_ready, max_total - active)` warm or warming, so at most `max_total` warm slots count.
 * See {@link advise} for the warm-pool model.
 */
export function predict(traffic: Traffic, settings: { maxTotal: number; minReady: number }): Prediction {
  assertTraffic(traffic);
  assertServers('max_total', settings.maxTotal);
  assertServers('min_ready', settings.minReady);
  const r = traffic.arrivalRatePerSecond;
  // No requests: nothing is refused and nothing misses (the formula's B(0, 0) = 1 would say otherwise).
  if (r === 0) return { rate503: 0, warmHitRate: 1 };
  return {
    rate503: erlangB(settings.maxTotal, r * traffic.meanSessionSeconds),
    warmHitRate: 1 - erlangB(Math.min(settings.minReady, settings.maxTotal), r * traffic.startSeconds),
  };
}

export interface AdviceInput extends Traffic {
  /** Acceptable fraction of requests refused with 503. Default 0.01. */
  target503Rate?: number;
  /** Wanted fraction of requests served from a warm pod. Default 0.95. */
  targetWarmHitRate?: number;
}

export interface Advice {
  target503Rate: number;
  targetWarmHitRate: number;
  /** R x S: the mean number of slots the traffic would hold with unlimited capacity. */
  offeredLoadErlangs: number;
  /** R x T: the mean number of warm-pool replacements in progress with unlimited warm slots. */
  warmOfferedLoadErlangs: number;
  /** Smallest max_total with ErlangB(max_total, R x S) <= target503Rate. */
  maxTotal: number;
  /** Smallest min_ready with 1 - ErlangB(min_ready, R x T) >= targetWarmHitRate, at most maxTotal. */
  minReady: number;
  /** What the recommended settings give. */
  predicted: Prediction;
  /** Caveats an operator should read with the numbers. */
  notes: string[];
}

/**
 * Recommends `max_total` and `min_ready` for a pool.
 *
 * `max_total`: the smallest N with ErlangB(N, R·S) <= the 503 target (R arrivals per second,
 * S mean session seconds).
 *
 * `min_ready`, the warm-pool model: the controller keeps warm + warming >= min_ready, so think of
 * min_ready as k warm slots, each either holding a ready pod or warming its replacement. A request
 * claims a ready pod, and that slot spends the next T seconds (the start time) warming a new one.
 * A request that arrives while all k slots are warming misses the warm pool and cold-starts a pod
 * of its own (outside the warm slots), so it leaves the warm slots as they were. That is an Erlang
 * loss system with k servers, holding time T and offered load R·T: the miss rate is
 * ErlangB(k, R·T) and the warm-hit rate 1 - ErlangB(k, R·T). The recommendation is the smallest k
 * meeting the warm-hit target, never above max_total (the controller never warms beyond it).
 *
 * The model assumes Poisson arrivals, a controller that starts the replacement as soon as a pod
 * is claimed (it reacts to pool-changed events; add its reaction time to T if it is not small),
 * up to k pods starting at once (max_starting >= min_ready), and room under max_total: while
 * `max_total - active < min_ready` the controller warms fewer pods and more requests cold-start.
 */
export function advise(input: AdviceInput): Advice {
  assertTraffic(input);
  const target503Rate = input.target503Rate ?? 0.01;
  const targetWarmHitRate = input.targetWarmHitRate ?? 0.95;
  assertFraction('target 503 rate', target503Rate);
  assertFraction('target warm-hit rate', targetWarmHitRate);
  const r = input.arrivalRatePerSecond;
  const offeredLoadErlangs = r * input.meanSessionSeconds;
  const warmOfferedLoadErlangs = r * input.startSeconds;
  const notes: string[] = [];
  const maxTotal = serversFor(offeredLoadErlangs, target503Rate);
  let minReady = r === 0 ? 0 : serversFor(warmOfferedLoadErlangs, 1 - targetWarmHitRate);
  // Instant starts (T = 0) make R·T = 0, where 0 slots would mean every request cold-starts;
  // one warm slot, replaced at once, serves them all.
  if (r > 0 && warmOfferedLoadErlangs === 0) minReady = 1;
  if (r === 0) {
    notes.push(
      'No arrivals: nothing to size. Size for the traffic you expect instead of leaving max_total at 0.',
    );
  }
  if (minReady > maxTotal) {
    notes.push(
      `min_ready is capped at max_total (${maxTotal}); pods start slowly compared with session length, ` +
        'so the warm-hit target cannot be met without raising max_total.',
    );
    minReady = maxTotal;
  }
  const predicted = predict(input, { maxTotal, minReady });
  return {
    target503Rate,
    targetWarmHitRate,
    offeredLoadErlangs,
    warmOfferedLoadErlangs,
    maxTotal,
    minReady,
    predicted,
    notes,
  };
}
