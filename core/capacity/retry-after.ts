/**
 * How long a refused create should wait before it retries (Retry-After), from what the pool (or the
 * workspace's share) is actually doing: slots come back at the rate they were released over the recent
 * window, a pod still starting brings one in about a warm-up time, and the earliest `expires_at` is
 * when one comes back at the latest. Sessions end early all the time: the earliest `expires_at` alone
 * is an upper bound, not an estimate (with 30-minute sessions it said 1800 s while a slot came back in
 * well under a second). Pure: no I/O.
 */

export interface TurnoverInputs {
  nowMs: number;
  /** When slots were released within the recent window (ms), any order. */
  releasesMs: readonly number[];
  /** Pods starting for the pool (they bring slots back when an operator raised max_total). */
  startingPods: number;
  /** Median pod start time (ms), if known. */
  warmupMs: number | undefined;
  /** The soonest a live session is due to end (ms since the epoch), if any. */
  earliestExpiryMs: number | undefined;
}

/** Longest Retry-After we ever advertise (an hour), and the shortest (a second: its unit). */
export const RETRY_AFTER_BOUNDS = { min: 1, max: 3600 } as const;

/**
 * Mean time between releases over the span they were observed in (now minus the oldest one kept):
 * with n releases seen over s seconds, the next is expected s/n seconds away.
 */
export function turnoverWaitMs(nowMs: number, releasesMs: readonly number[]): number | undefined {
  if (releasesMs.length === 0) return undefined;
  const oldest = Math.min(...releasesMs);
  const spanMs = Math.max(1000, nowMs - oldest);
  return spanMs / releasesMs.length;
}

/** Seconds to advertise in Retry-After. */
export function retryAfterSeconds(i: TurnoverInputs): number {
  const waits: number[] = [];
  const turnover = turnoverWaitMs(i.nowMs, i.releasesMs);
  if (turnover !== undefined) waits.push(turnover);
  if (i.startingPods > 0 && i.warmupMs !== undefined) waits.push(i.warmupMs);
  const expiry = i.earliestExpiryMs === undefined ? undefined : Math.max(0, i.earliestExpiryMs - i.nowMs);
  let ms = waits.length > 0 ? Math.min(...waits) : (expiry ?? i.warmupMs ?? 1000);
  if (expiry !== undefined) ms = Math.min(ms, expiry);
  return Math.min(RETRY_AFTER_BOUNDS.max, Math.max(RETRY_AFTER_BOUNDS.min, Math.ceil(ms / 1000)));
}
