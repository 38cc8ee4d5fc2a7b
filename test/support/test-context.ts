/**
 * Real-service test context: a fresh Postgres database with the real migrations, a Redis prefix of
 * its own (keys and BullMQ queues), and seeders. No mocks of Postgres, Redis, BullMQ or Chromium.
 */
import { pageEgressAllow } from './page-ports.ts';
import { testLocalDriver } from './local-driver.ts';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../core/config/config.ts';
import { createDatabase, type Database } from '../../core/db/database.ts';
import { prepareDatabase } from '../../core/db/bootstrap.ts';
import { createApiKey, createWorkspace } from '../../core/db/workspaces.repository.ts';
import { createLogger } from '../../core/logging/logger.ts';
import type { Scope } from '../../core/domain/scopes.ts';
import { startStack, type Stack } from '../../stack/stack.ts';
import { openServices, type Services } from '../../core/services.ts';
import { buildApp } from '../../broker/app.ts';
import type { AddressInfo } from 'node:net';
import { adminDatabaseUrl, redisUrl } from './env.ts';
import { stopSimServer } from '../../core/runtime/sim/sim-server.launcher.ts';

export interface TestContextOptions {
  minReady?: number;
  maxTotal?: number;
  env?: Record<string, string>;
  /** Another Postgres (superuser URL) than the suite's, e.g. a throwaway one a fault test restarts. */
  adminUrl?: string;
  /** Another Redis than the suite's. */
  redisUrl?: string;
}

export class TestContext {
  private constructor(
    readonly name: string,
    readonly databaseUrl: string,
    readonly redisUrl: string,
    readonly config: Config,
    readonly db: Database,
    readonly dataDir: string,
    private readonly adminUrl: string,
  ) {}

  static async create(options: TestContextOptions = {}): Promise<TestContext> {
    const name = `vt_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
    const adminUrl = options.adminUrl ?? adminDatabaseUrl();
    const redis = options.redisUrl ?? redisUrl();
    const admin = new pg.Client(adminUrl);
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ventus-test-'));
    const config = loadConfig({
      DATABASE_URL: url.toString(),
      REDIS_URL: redis,
      PORT: '0',
      HOST: '127.0.0.1',
      VENTUS_REDIS_PREFIX: name,
      VENTUS_DATA_DIR: dataDir,
      VENTUS_POOL_MIN_READY: String(options.minReady ?? 0),
      VENTUS_POOL_MAX_TOTAL: String(options.maxTotal ?? 5),
      VENTUS_LOG_LEVEL: process.env.VENTUS_LOG_LEVEL ?? 'silent',
      VENTUS_RECONCILE_INTERVAL_MS: '200',
      // Test pages listen on a few fixed ports (page-ports.ts); nothing else is reachable from pods.
      VENTUS_EGRESS_ALLOW: pageEgressAllow(),
      ...options.env,
    });
    const db = createDatabase(url.toString(), { max: 4 });
    await prepareDatabase(db, config);
    return new TestContext(name, url.toString(), redis, config, db, dataDir, adminUrl);
  }

  /** A workspace and a key for it. */
  async seedKey(
    scopes: Scope[] = ['sessions:read', 'sessions:write'],
  ): Promise<{ apiKey: string; workspaceId: string }> {
    const ws = await createWorkspace(this.db, `ws-${randomBytes(4).toString('hex')}`);
    const { apiKey } = await createApiKey(this.db, ws.id, scopes);
    return { apiKey, workspaceId: ws.id };
  }

  /** The whole service (broker, proxy, workers, controller) on a free port, as `ventus up` runs it. */
  async startStack(): Promise<Stack> {
    const log = createLogger(this.config.logLevel, { test: this.name });
    const stack = await startStack(
      this.config,
      { databaseUrl: this.databaseUrl, redisUrl: this.redisUrl },
      log,
    );
    // connect_url must point at this stack's port.
    (this.config as { publicUrl: string }).publicUrl = stack.url;
    return stack;
  }

  /** Only the broker (no workers, no controller): sessions stay QUEUED. For API-contract tests. */
  async startApi(): Promise<{ url: string; services: Services; close(): Promise<void> }> {
    const log = createLogger(this.config.logLevel, { test: this.name });
    const services = await openServices(
      this.config,
      { databaseUrl: this.databaseUrl, redisUrl: this.redisUrl },
      log,
    );
    const app = await buildApp(services);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    (this.config as { publicUrl: string }).publicUrl = url;
    return {
      url,
      services,
      async close() {
        await app.close();
        await services.close();
      },
    };
  }

  async close(): Promise<void> {
    await this.db.end();
    const redis = new Redis(this.redisUrl);
    const keys = await redis.keys(`${this.name}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    const admin = new pg.Client(this.adminUrl);
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
    await admin.end();
    // Every pod a test left (held by a session that never ended, or mid-creation) goes with it.
    const stateDir = path.join(this.dataDir, 'pods');
    const driver = testLocalDriver(stateDir);
    await driver.removeAllPods();
    await driver.close();
    await stopSimServer(path.join(this.dataDir, 'sim')).catch(() => {});
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
