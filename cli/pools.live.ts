/**
 * Redis for `ventus pools`, when one answers: live pool figures, warm-up samples, and the
 * pool-changed signal that wakes the controller. The commands still work without it (Postgres
 * holds the settings; the controller rereads them every pass).
 */
import { Redis } from 'ioredis';
import type { Config } from '../core/config/config.ts';
import { RedisKeys } from '../core/redis/keys.ts';
import { openPoolStores, type PoolStores } from '../core/redis/pool-stores.ts';

/** Where `ventus up` finds Redis when REDIS_URL is unset (if one answers there). */
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const CONNECT_TIMEOUT_MS = 2000;

export interface LiveRedis {
  pools: PoolStores;
  close(): void;
}

/** Connects, or explains (without the URL: it may hold a password) why there is no live Redis. */
export async function connectLive(
  config: Config,
): Promise<{ live: LiveRedis; problem?: undefined } | { live?: undefined; problem: string }> {
  const redis = new Redis(config.redisUrl ?? DEFAULT_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Fail fast: a CLI run should not hang retrying a Redis that is not there.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch {
    redis.disconnect();
    return {
      problem: config.redisUrl
        ? 'Redis (REDIS_URL) does not answer'
        : 'REDIS_URL is unset and no Redis answers on 127.0.0.1:6379',
    };
  }
  return {
    live: {
      pools: openPoolStores(redis, new RedisKeys(config.redisPrefix)),
      close: () => redis.disconnect(),
    },
  };
}
