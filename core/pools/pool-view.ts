/** A pool as the operator API shows it: settings from Postgres, live figures from Redis and Postgres. */
import type { PoolSettings } from '../db/pools.repository.ts';
import { liveStatusCounts } from '../db/live-sessions.repository.ts';
import type { PoolResource } from '../domain/pool.schema.ts';
import type { Services } from '../services.ts';

/** The live figures' sources: the warm list and starting pods, the admitted slots, the session rows. */
export type PoolViewDeps = Pick<Services, 'db' | 'poolSlots' | 'warmPods'>;

export async function poolView(services: PoolViewDeps, pool: PoolSettings): Promise<PoolResource> {
  const [warm, starting, admitted, counts, warmupMs] = await Promise.all([
    services.warmPods.ids(pool.name),
    services.warmPods.startingIds(pool.name),
    services.poolSlots.activeCount(pool.name),
    liveStatusCounts(services.db, pool.name),
    services.warmPods.warmupMs(pool.name),
  ]);
  return {
    name: pool.name,
    region: pool.region,
    runtime_kind: pool.runtimeKind,
    min_ready: pool.minReady,
    max_total: pool.maxTotal,
    max_starting: pool.maxStarting,
    pod_template: pool.podTemplate,
    updated_at: pool.updatedAt.toISOString(),
    retired_at: pool.retiredAt?.toISOString() ?? null,
    status: {
      ready: warm.length,
      warming: starting.length,
      admitted,
      queued: counts.queued,
      held: counts.provisioning + counts.running,
      warmup_ms: warmupMs ?? null,
    },
  };
}
