/**
 * Committed pool settings reach Redis: admission holds to the new limits before the caller is
 * answered, and the pool controller wakes to act on them.
 */
import type { PoolStores } from '../redis/pool-stores.ts';

export async function announcePoolSettings(
  stores: Pick<PoolStores, 'poolSlots' | 'poolSignals'>,
  pool: { name: string; maxTotal: number; minReady: number; updatedAt: Date },
): Promise<void> {
  await stores.poolSlots.publishLimits(pool.name, {
    maxTotal: pool.maxTotal,
    minReady: pool.minReady,
    version: pool.updatedAt.getTime(),
  });
  await stores.poolSignals.changed(pool.name);
}
