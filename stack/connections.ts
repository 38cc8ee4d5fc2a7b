/** Where the CLI's Postgres and Redis are: configured URLs, or the embedded defaults. */
import type { Config } from '../core/config/config.ts';
import type { Logger } from '../core/logging/logger.ts';
import { startEmbeddedRedis } from './embedded-services.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

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
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
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
    return { databaseUrl, redisUrl, stop };
  } catch (err) {
    // Nothing this call started outlives its failure.
    await stop();
    throw err;
  }
}
