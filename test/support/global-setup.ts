/**
 * Real services for the suite: the machine's Postgres and Redis when they answer (CI starts them),
 * else an embedded Postgres and a redis-server started here, so the tests run on a fresh machine too.
 */
import net from 'node:net';
import { adminDatabaseUrl, redisUrl } from './env.ts';
import { startEmbeddedRedis, type EmbeddedService } from '../../stack/embedded-services.ts';
import { startEmbeddedPostgres } from '../../stack/embedded-postgres.ts';
import { createLogger } from '../../core/logging/logger.ts';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.setTimeout(2000, () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
    socket.once('connect', () => (socket.destroy(), resolve(true)));
  });
}

export default async function setup(): Promise<() => Promise<void>> {
  const started: EmbeddedService[] = [];
  const log = createLogger('warn', { component: 'test-setup' });
  if (!(await reachable(adminDatabaseUrl()))) {
    if (process.env.TEST_DATABASE_URL) throw new Error(`TEST_DATABASE_URL does not answer`);
    const pg = await startEmbeddedPostgres('.ventus/test', log);
    started.push(pg);
    // Test files run in forks created after this, which inherit the environment.
    process.env.TEST_DATABASE_URL = pg.url;
  }
  if (!(await reachable(redisUrl()))) {
    if (process.env.TEST_REDIS_URL) throw new Error(`TEST_REDIS_URL does not answer`);
    const redis = await startEmbeddedRedis(log);
    started.push(redis);
    process.env.TEST_REDIS_URL = redis.url;
  }
  return async () => {
    for (const s of started) await s.stop();
  };
}
