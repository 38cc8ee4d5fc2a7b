/** Where the CLI's Postgres and Redis are: configured URLs, or the embedded defaults. */
import type { Config } from '../core/config/config.ts';
import type { Logger } from '../core/logging/logger.ts';
import { startEmbeddedPostgres, startEmbeddedRedis } from './embedded-services.ts';

export interface Connections {
  databaseUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

export async function resolveConnections(
  config: Config,
  log: Logger,
  need: { redis: boolean } = { redis: true },
): Promise<Connections> {
  const stops: (() => Promise<void>)[] = [];
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const pg = await startEmbeddedPostgres(config.dataDir, log);
    stops.push(() => pg.stop());
    databaseUrl = pg.url;
  }
  let redisUrl = config.redisUrl ?? '';
  if (!redisUrl && need.redis) {
    const redis = await startEmbeddedRedis(log);
    stops.push(() => redis.stop());
    redisUrl = redis.url;
  }
  return {
    databaseUrl,
    redisUrl,
    async stop() {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    },
  };
}
