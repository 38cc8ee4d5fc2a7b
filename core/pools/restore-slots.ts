/**
 * Brings a pool's Redis fast path back to what Postgres says after Redis lost its data: the limits,
 * and a slot for every live session. Idempotent (existing slots keep their admission time), so the
 * broker (on first admission after a loss) and the pool controller (every pass) may both run it.
 */
import type { PoolSettings } from '../db/pools.repository.ts';
import type { Session } from '../db/sessions.repository.ts';
import { listLiveSessions } from '../db/live-sessions.repository.ts';
import type { Queryable } from '../db/database.ts';
import type { PoolSlots } from '../redis/pool-slots.ts';

export async function restorePoolSlots(
  deps: { db: Queryable; poolSlots: PoolSlots },
  pool: PoolSettings,
  live?: Session[],
): Promise<number> {
  const sessions = live ?? (await listLiveSessions(deps.db, pool.name));
  const restored = await deps.poolSlots.restore(
    pool.name,
    sessions.map((s) => ({ id: s.id, workspaceId: s.workspaceId, admittedAtMs: s.createdAt.getTime() })),
  );
  await deps.poolSlots.publishLimits(pool.name, {
    maxTotal: pool.maxTotal,
    minReady: pool.minReady,
    version: pool.updatedAt.getTime(),
  });
  return restored;
}
