import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { parseExposition, value } from '../support/prometheus-text.ts';
import { buildApp } from '../../broker/app.ts';
import { ConfigError, loadConfig } from '../../core/config/config.ts';
import { createLogger } from '../../core/logging/logger.ts';
import { openServices, type Services } from '../../core/services.ts';
import { startOpsServer, type OpsServer } from '../../core/process/ops-server.ts';

const TOKEN = 'metrics-token-0123456789';

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('/healthz and /readyz on the broker', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let anonymous: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create();
    server = await ctx.startApi();
    anonymous = new ApiClient(server.url, undefined);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('answer without authentication, as /openapi.json documents', async () => {
    expect(await anonymous.request('GET', '/healthz')).toMatchObject({
      status: 200,
      body: { status: 'ok', driver: 'local' },
    });
    expect(await anonymous.request('GET', '/readyz')).toMatchObject({
      status: 200,
      body: { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } },
    });
  });

  it('/readyz is a 503 problem document naming Redis when Redis is unreachable', async () => {
    const log = createLogger('silent');
    const redisUrl = `redis://127.0.0.1:${await closedPort()}`;
    const services = await openServices(ctx.config, { databaseUrl: ctx.databaseUrl, redisUrl }, log);
    const app = await buildApp(services);
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['retry-after']).toBe('5');
      const doc = res.json<Record<string, unknown>>();
      expect(doc).toMatchObject({
        type: expect.stringMatching(/\/errors\/service-unavailable$/) as string,
        title: 'Service unavailable',
        status: 503,
        instance: '/readyz',
        checks: { postgres: 'ok', redis: expect.stringMatching(/^Redis connection is \w+/) as unknown },
        failing: ['redis'],
      });
      expect(doc.detail).toMatch(/^Not ready: redis \(Redis connection is \w+\)$/);
      // /metrics still answers: the pool and queue gauges are left out, the failure is counted.
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      const expo = parseExposition(metrics.body);
      expect(value(expo, 'ventus_pool_ready', { pool: 'us-east1-chromium' })).toBeUndefined();
      expect(value(expo, 'ventus_metrics_collect_failures_total', { source: 'pools' })).toBe(1);
      expect(value(expo, 'ventus_metrics_collect_failures_total', { source: 'queues' })).toBe(1);
    } finally {
      await app.close();
      await services.close();
    }
  });

  it('/readyz names both checks when Postgres is unreachable too', async () => {
    const log = createLogger('silent');
    // Secrets configured, as in production: nothing needs Postgres to start.
    const profileKeys = [{ kid: 'k1', key: randomBytes(32) }];
    const config = { ...ctx.config, jwtSecret: 'x'.repeat(32), profileKeys, podAgentKey: 'y'.repeat(32) };
    const databaseUrl = `postgres://postgres@127.0.0.1:${await closedPort()}/none`;
    const redisUrl = `redis://127.0.0.1:${await closedPort()}`;
    const services = await openServices(config, { databaseUrl, redisUrl }, log);
    const app = await buildApp(services);
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      const doc = res.json<{ failing: string[]; checks: Record<string, string> }>();
      expect(doc.failing).toEqual(['postgres', 'redis']);
      expect(doc.checks.postgres).toMatch(/ECONNREFUSED|did not answer/);
    } finally {
      await app.close();
      await services.close();
    }
  });

  it('/metrics requires the token when VENTUS_METRICS_TOKEN is set', async () => {
    const services: Services = {
      ...server.services,
      config: { ...server.services.config, metricsToken: TOKEN },
    };
    const app = await buildApp(services);
    try {
      const refused = await app.inject({ method: 'GET', url: '/metrics' });
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({
        type: expect.stringMatching(/\/errors\/unauthorized$/) as string,
      });
      const wrong = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: 'Bearer nope' },
      });
      expect(wrong.statusCode).toBe(401);
      const ok = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toMatch(/^# HELP /m);
    } finally {
      await app.close();
    }
  });
});

describe('the ops server of the workers and pool-controller processes', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let ops: OpsServer;
  let base: string;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 3, minReady: 1 });
    server = await ctx.startApi();
    const services = { ...server.services, config: { ...server.services.config, metricsToken: TOKEN } };
    ops = await startOpsServer(services, { port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${ops.port}`;
  });
  afterAll(async () => {
    await ops?.close();
    await server?.close();
    await ctx?.close();
  });

  it('serves /healthz, /readyz and /metrics on a port of its own', async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', driver: 'local' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const expo = parseExposition(await metrics.text());
    expect(value(expo, 'ventus_pool_max_total', { pool: 'us-east1-chromium' })).toBe(3);
    expect(value(expo, 'ventus_pool_min_ready', { pool: 'us-east1-chromium' })).toBe(1);
  });

  it('answers anything else with a problem document', async () => {
    const missing = await fetch(`${base}/v1/sessions`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(await missing.json()).toMatchObject({ status: 404, instance: '/v1/sessions' });
    const post = await fetch(`${base}/readyz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('VENTUS_OPS_PORT and VENTUS_METRICS_TOKEN are validated with the rest of the configuration', () => {
    expect(loadConfig({ VENTUS_OPS_PORT: '9470' }).opsPort).toBe(9470);
    expect(loadConfig({}).opsPort).toBeUndefined();
    expect(() => loadConfig({ VENTUS_OPS_PORT: 'x', VENTUS_METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    try {
      loadConfig({ VENTUS_OPS_PORT: 'x', VENTUS_METRICS_TOKEN: 'short' });
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([
        'VENTUS_METRICS_TOKEN: expected at least 16 characters',
        'VENTUS_OPS_PORT="x": expected a whole number from 0 to 65535',
      ]);
    }
  });
});
