/**
 * The problem a refused create gets: the pool is full (503 insufficient-capacity) or the workspace
 * holds its quota of live sessions (429 session-quota-exceeded). Either way Retry-After comes from
 * the observed turnover of what refused it (core/capacity/retry-after.ts).
 */
import { earliestExpiry } from '../db/live-sessions.repository.ts';
import type { PoolSettings } from '../db/pools.repository.ts';
import { ProblemError } from '../domain/problems.ts';
import { retryAfterSeconds } from '../capacity/retry-after.ts';
import type { Admission } from '../redis/pool-slots.ts';
import type { Services } from '../services.ts';

/** What a refusal reads to compute Retry-After (the pool's and workspace's turnover) and counts. */
export type RefusalDeps = Pick<Services, 'db' | 'metrics' | 'poolSlots' | 'warmPods'>;

/** Retry-After for a full pool: its releases, its starting pods, its earliest expiry. */
export async function poolRetryAfter(
  services: Pick<RefusalDeps, 'db' | 'poolSlots' | 'warmPods'>,
  pool: PoolSettings,
): Promise<number> {
  const [releasesMs, soonest, starting, warmupMs] = await Promise.all([
    services.poolSlots.recentReleases({ pool: pool.name }),
    earliestExpiry(services.db, { pool: pool.name }),
    services.warmPods.startingIds(pool.name),
    services.warmPods.warmupMs(pool.name),
  ]);
  return retryAfterSeconds({
    nowMs: Date.now(),
    releasesMs,
    startingPods: starting.length,
    warmupMs,
    earliestExpiryMs: soonest?.getTime(),
  });
}

/**
 * Retry-After for a workspace at its quota: its own releases and the earliest expiry of its sessions.
 * A refusal racing the creates that filled the quota may see none of their rows yet (admission comes
 * before the insert): with no expiry known it says a second, and the retry hears the real bound.
 */
export async function quotaRetryAfter(
  services: Pick<RefusalDeps, 'db' | 'poolSlots'>,
  workspaceId: string,
): Promise<number> {
  const [releasesMs, soonest] = await Promise.all([
    services.poolSlots.recentReleases({ workspaceId }),
    earliestExpiry(services.db, { workspaceId }),
  ]);
  return retryAfterSeconds({
    nowMs: Date.now(),
    releasesMs,
    startingPods: 0,
    warmupMs: undefined,
    earliestExpiryMs: soonest?.getTime(),
  });
}

export async function refusal(
  services: RefusalDeps,
  pool: PoolSettings,
  workspaceId: string,
  admission: Exclude<Admission, 'admitted'>,
  quota: number,
): Promise<ProblemError> {
  if (admission === 'quota-reached') {
    return new ProblemError('session-quota-exceeded', {
      retryAfter: await quotaRetryAfter(services, workspaceId),
      detail: `This workspace already has ${quota} live sessions, its limit; release one (or wait for one to end) and retry.`,
      extensions: { limit: quota },
    });
  }
  const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  services.metrics.insufficientCapacity.inc({ pool: pool.name });
  return new ProblemError('insufficient-capacity', {
    retryAfter: await poolRetryAfter(services, pool),
    detail: `No agents in region ${pool.region} had spare capacity at ${at}. Retry after the pool drains; ${pool.region} is the only region available today.`,
  });
}
