/**
 * The shared clients every process needs, opened by a process's main (or by `ventus up`, or a test)
 * and passed down. Library code never opens connections of its own.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Config } from './config/config.ts';
import { createDatabase, type Database } from './db/database.ts';
import { settingOrCreate } from './db/settings.repository.ts';
import { RedisKeys } from './redis/keys.ts';
import { PoolState } from './redis/pool-state.ts';
import { SessionRoutes } from './redis/session-routes.ts';
import { CdpConnections } from './redis/cdp-connections.ts';
import { JobProducer } from './queue/producer.ts';
import { SessionTokens } from './security/cdp-token.ts';
import type { Logger } from './logging/logger.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { storeSources } from './metrics/state-sources.ts';

export interface Services {
  config: Config;
  log: Logger;
  db: Database;
  redis: Redis;
  keys: RedisKeys;
  pools: PoolState;
  routes: SessionRoutes;
  connections: CdpConnections;
  jobs: JobProducer;
  tokens: SessionTokens;
  /**
   * This process's Prometheus registry and metrics: one per Services, so `ventus up`'s all-in-one
   * process has one registry shared by broker, workers, controller and proxy.
   */
  metrics: Metrics;
  /** BullMQ key prefix (workers must use the same one as the producer). */
  queuePrefix: string;
  /** A new Redis connection for blocking uses (BullMQ workers, pub/sub); closed by `close()`. */
  duplicateRedis(): Redis;
  close(): Promise<void>;
}

export function openRedis(url: string): Redis {
  // maxRetriesPerRequest: null is what BullMQ requires of a connection that blocks; harmless elsewhere.
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
}

export async function openServices(
  config: Config,
  urls: { databaseUrl: string; redisUrl: string },
  log: Logger,
): Promise<Services> {
  const db = createDatabase(urls.databaseUrl);
  // ioredis reconnects by itself; an error with no listener would print as "Unhandled error event".
  const onRedisError = (err: Error) => log.warn({ err }, 'redis connection error (reconnecting)');
  const redis = openRedis(urls.redisUrl).on('error', onRedisError);
  const extra: Redis[] = [];
  const keys = new RedisKeys(config.redisPrefix);
  const queuePrefix = `${config.redisPrefix}:bull`;
  const jobs = new JobProducer({ connection: redis, prefix: queuePrefix });
  const secret =
    config.jwtSecret ??
    (await settingOrCreate(db, 'cdp_jwt_secret', () => randomBytes(32).toString('base64url')));
  const metricsLog = log.child({ component: 'metrics' });
  const metrics = createMetrics(storeSources({ db, redis, keys, jobs }), (err) =>
    metricsLog.warn({ err }, 'reading pool or queue state for /metrics failed'),
  );
  return {
    config,
    log,
    db,
    redis,
    keys,
    pools: new PoolState(redis, keys),
    routes: new SessionRoutes(redis, keys),
    connections: new CdpConnections(redis, keys),
    jobs,
    tokens: new SessionTokens(secret),
    metrics,
    queuePrefix,
    duplicateRedis() {
      const r = openRedis(urls.redisUrl).on('error', onRedisError);
      extra.push(r);
      return r;
    },
    async close() {
      metrics.close();
      await jobs.close().catch(() => {});
      for (const r of extra) r.disconnect();
      redis.disconnect();
      await db.end().catch(() => {});
    },
  };
}
