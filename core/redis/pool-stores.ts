/** The pools' state in Redis, one store per concern, opened together (services, the CLI, tests). */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.ts';
import { PoolSignals } from './pool-signals.ts';
import { PoolSlots } from './pool-slots.ts';
import { WarmPods } from './warm-pods.ts';

export interface PoolStores {
  /** Admission: the slots of admitted sessions, workspace shares, limits and releases. */
  poolSlots: PoolSlots;
  /** The warm list sessions claim from, the pods starting for it, their start times. */
  warmPods: WarmPods;
  /** The pool-changed wake-up and the epoch that tells the controller Redis lost its data. */
  poolSignals: PoolSignals;
}

export function openPoolStores(redis: Redis, keys: RedisKeys): PoolStores {
  return {
    poolSlots: new PoolSlots(redis, keys),
    warmPods: new WarmPods(redis, keys),
    poolSignals: new PoolSignals(redis, keys),
  };
}
