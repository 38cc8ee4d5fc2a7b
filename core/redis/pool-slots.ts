/**
 * Admission in Redis: the slots a pool's admitted sessions hold, each workspace's share of them, the
 * limits admission checks against, and the releases that make a pool's observed turnover. Everything
 * here can be rebuilt from Postgres (core/pools/restore-slots.ts).
 */
import type { Redis } from 'ioredis';
import { withCommands, type VentusRedis } from './commands.ts';
import type { RedisKeys } from './keys.ts';

export type Admission = 'admitted' | 'full' | 'quota-reached' | 'limits-unknown' | 'workspace-unknown';

/** The workspace a slot is admitted for, and how many live sessions it may hold. */
export interface WorkspaceShare {
  workspaceId: string;
  quota: number;
}

/** How far back releases count towards a pool's (or workspace's) observed turnover. */
export const RELEASE_WINDOW_MS = 5 * 60_000;
/** A workspace live set is rebuilt from Postgres at least this often (heals entries left by races). */
const WORKSPACE_SYNC_MS = 60_000;
/** Entries this young are kept by a rebuild even when Postgres lacks them (row not committed yet). */
const ADMISSION_GRACE_MS = 30_000;

const ADMISSIONS: Record<number, Admission> = {
  1: 'admitted',
  0: 'full',
  [-1]: 'limits-unknown',
  [-2]: 'workspace-unknown',
  [-3]: 'quota-reached',
};

export interface PoolLimits {
  maxTotal: number;
  minReady: number;
  /** When the settings last changed (ms): older limits never replace newer ones. */
  version: number;
}

export class PoolSlots {
  private readonly redis: VentusRedis;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    this.redis = withCommands(redis);
  }

  /** Publishes the limits admission checks against, unless newer ones are there already. */
  async publishLimits(pool: string, limits: PoolLimits): Promise<void> {
    await this.redis.publishLimits(
      this.keys.poolLimits(pool),
      limits.maxTotal,
      limits.minReady,
      limits.version,
    );
  }

  /**
   * One atomic step: reserve a slot of the pool and of the workspace's share for the session, or
   * report which of the two is full (the workspace's quota first: it is the caller's own limit).
   */
  async admit(
    pool: string,
    sessionId: string,
    share: WorkspaceShare,
    nowMs = Date.now(),
  ): Promise<Admission> {
    const result = await this.redis.admit(
      this.keys.poolActive(pool),
      this.keys.poolLimits(pool),
      this.keys.poolOwners(pool),
      this.keys.workspaceLive(share.workspaceId),
      this.keys.workspaceLiveKnown(share.workspaceId),
      sessionId,
      nowMs,
      share.workspaceId,
      share.quota,
    );
    return ADMISSIONS[result] ?? 'limits-unknown';
  }

  /**
   * Frees the session's slot in its pool and its workspace's share, and records the release in both
   * turnover logs. Idempotent.
   */
  async release(pool: string, sessionId: string, nowMs = Date.now()): Promise<void> {
    await this.free(pool, sessionId, nowMs, '1');
  }

  /** Gives back a slot whose session was never created (not a release: the turnover is not told). */
  async undoAdmission(pool: string, sessionId: string): Promise<void> {
    await this.free(pool, sessionId, Date.now(), '0');
  }

  private async free(pool: string, sessionId: string, nowMs: number, record: '1' | '0'): Promise<void> {
    await this.redis.releaseSlot(
      this.keys.poolActive(pool),
      this.keys.poolOwners(pool),
      this.keys.poolReleases(pool),
      sessionId,
      nowMs,
      this.keys.workspacePrefix(),
      RELEASE_WINDOW_MS,
      record,
    );
  }

  /**
   * Rebuilds the workspace's live set from its live sessions in Postgres (all pools). Returns its size.
   */
  async syncWorkspace(
    workspaceId: string,
    live: { id: string; pool: string; admittedAtMs: number }[],
    nowMs = Date.now(),
  ): Promise<number> {
    return this.redis.syncWorkspace(
      this.keys.workspaceLive(workspaceId),
      this.keys.workspaceLiveKnown(workspaceId),
      nowMs,
      ADMISSION_GRACE_MS,
      WORKSPACE_SYNC_MS,
      workspaceId,
      ...live.flatMap((s) => [s.id, s.admittedAtMs, this.keys.poolOwners(s.pool)]),
    );
  }

  async workspaceLiveCount(workspaceId: string): Promise<number> {
    return this.redis.zcard(this.keys.workspaceLive(workspaceId));
  }

  /** Release times (ms) within the window, of a pool or (with `workspaceId`) of a workspace. */
  async recentReleases(
    of: { pool: string } | { workspaceId: string },
    nowMs = Date.now(),
  ): Promise<number[]> {
    const key = 'pool' in of ? this.keys.poolReleases(of.pool) : this.keys.workspaceReleases(of.workspaceId);
    const members = await this.redis.zrangebyscore(key, nowMs - RELEASE_WINDOW_MS, '+inf', 'WITHSCORES');
    return members.filter((_, i) => i % 2 === 1).map(Number);
  }

  async activeCount(pool: string): Promise<number> {
    return this.redis.zcard(this.keys.poolActive(pool));
  }

  /** Slot holders admitted before `beforeMs` (older ones can be checked against Postgres safely). */
  async activeAdmittedBefore(pool: string, beforeMs: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.poolActive(pool), '-inf', beforeMs);
  }

  async activeIds(pool: string): Promise<string[]> {
    return this.redis.zrange(this.keys.poolActive(pool), 0, -1);
  }

  /**
   * Adds slots for admitted sessions Redis lost (a flush), with their owners; existing slots keep
   * their time.
   */
  async restore(
    pool: string,
    sessions: { id: string; workspaceId: string; admittedAtMs: number }[],
  ): Promise<number> {
    if (sessions.length === 0) return 0;
    const args = sessions.flatMap((s) => [s.admittedAtMs, s.id]);
    const [[, added]] = (await this.redis
      .multi()
      .zadd(this.keys.poolActive(pool), 'NX', ...args)
      .hset(this.keys.poolOwners(pool), Object.fromEntries(sessions.map((s) => [s.id, s.workspaceId])))
      .exec()) as [[Error | null, number], unknown];
    return added;
  }
}
