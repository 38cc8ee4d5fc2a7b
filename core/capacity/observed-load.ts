/**
 * A pool's traffic as it happened: the inputs of the Erlang-B sizing, measured instead of guessed.
 * Arrivals and session lengths come from Postgres (the source of truth), the pod start time from
 * the warm-up samples the controller keeps in Redis.
 */
import type { Queryable } from '../db/database.ts';
import type { WarmPods } from '../redis/warm-pods.ts';

export const DEFAULT_WINDOW_SECONDS = 3600;

export interface ObservedLoad {
  pool: string;
  windowSeconds: number;
  /** End of the window (Postgres time); the window is (until - windowSeconds, until]. */
  until: Date;
  /**
   * Sessions created in the window. Requests refused with 503 leave no row, so while the pool
   * refuses requests this undercounts the offered traffic.
   */
  arrivals: number;
  arrivalRatePerSecond: number;
  /** Sessions that ended in the window (every ending sets `released_at`). */
  endedSessions: number;
  /** Mean of `released_at - created_at` (admission to end: how long a slot is held) of those. */
  meanSessionSeconds: number | undefined;
  /**
   * Slots held on average over the window, live sessions included (slot-seconds / window). Equals
   * arrival rate x mean session length in a steady state (Little's law): a cross-check.
   */
  carriedLoadErlangs: number;
  /** Median of the pool's recent pod start times; undefined before the first start or without Redis. */
  warmupMs: number | undefined;
}

interface Row {
  until: Date;
  arrivals: number;
  ended: number;
  mean_seconds: number | null;
  busy_seconds: number;
}

/**
 * Observes a pool over the window ending now (or `until`). Without `pools` (no Redis), the
 * warm-up time is left undefined.
 */
export async function observeLoad(
  deps: { db: Queryable; pools?: Pick<WarmPods, 'warmupMs'> },
  pool: string,
  options: { windowSeconds?: number; until?: Date } = {},
): Promise<ObservedLoad> {
  const windowSeconds = options.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  if (!Number.isFinite(windowSeconds) || windowSeconds <= 0) {
    throw new RangeError(`window must be a finite number of seconds > 0 (got ${windowSeconds})`);
  }
  // One pass over the sessions that touch the window: created in it, ended in it, or still live.
  const { rows } = await deps.db.query<Row>(
    `WITH w AS (SELECT COALESCE($3::timestamptz, now()) AS until,
                       COALESCE($3::timestamptz, now()) - make_interval(secs => $2::float8) AS since)
     SELECT w.until,
            count(s.id) FILTER (WHERE s.created_at > w.since)::int AS arrivals,
            count(s.id) FILTER (WHERE s.released_at > w.since AND s.released_at <= w.until)::int AS ended,
            (avg(extract(epoch FROM s.released_at - s.created_at))
               FILTER (WHERE s.released_at > w.since AND s.released_at <= w.until))::float8 AS mean_seconds,
            -- GREATEST skips NULLs: without the filter, the empty row of the LEFT JOIN counts a whole window.
            COALESCE(sum(extract(epoch FROM LEAST(COALESCE(s.released_at, w.until), w.until)
                                           - GREATEST(s.created_at, w.since))) FILTER (WHERE s.id IS NOT NULL),
                     0)::float8 AS busy_seconds
       FROM w
       LEFT JOIN sessions s
         ON s.pool = $1 AND s.created_at <= w.until AND (s.released_at IS NULL OR s.released_at > w.since)
      GROUP BY w.until`,
    [pool, windowSeconds, options.until ?? null],
  );
  const row = rows[0]!;
  return {
    pool,
    windowSeconds,
    until: row.until,
    arrivals: row.arrivals,
    arrivalRatePerSecond: row.arrivals / windowSeconds,
    endedSessions: row.ended,
    meanSessionSeconds: row.mean_seconds ?? undefined,
    carriedLoadErlangs: row.busy_seconds / windowSeconds,
    warmupMs: deps.pools ? await deps.pools.warmupMs(pool) : undefined,
  };
}
