/**
 * The service's OpenAPI document, built in-process from the broker's route schemas: no server, no
 * Postgres, no Redis (the clients are created lazily and never used, because no request is served).
 * Development tooling of this repository only; the published SDK never imports the service.
 */
import { Redis } from 'ioredis';
import { buildApp } from '../../broker/app.ts';
import { loadConfig } from '../../core/config/config.ts';
import { createDatabase } from '../../core/db/database.ts';
import { createLogger } from '../../core/logging/logger.ts';
import type { Services } from '../../core/services.ts';

/** The `servers` URL written into the document (and so into the generated types' comments). */
const PUBLIC_URL = 'http://localhost:8080';

export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({
    DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused',
    REDIS_URL: 'redis://127.0.0.1:1',
    PUBLIC_URL,
    VENTUS_LOG_LEVEL: 'silent',
  });
  const db = createDatabase(config.databaseUrl ?? 'postgres://unused@127.0.0.1:1/unused', { max: 1 });
  const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false });
  // Route factories only keep `services` for their handlers; registering them touches config and log.
  const services = { config, log: createLogger('silent'), db, redis } as unknown as Services;
  const app = await buildApp(services);
  try {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    if (res.statusCode !== 200) throw new Error(`/openapi.json answered ${res.statusCode}`);
    return res.json<Record<string, unknown>>();
  } finally {
    await app.close();
    redis.disconnect();
    await db.end();
  }
}
