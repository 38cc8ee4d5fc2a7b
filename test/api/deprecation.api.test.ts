import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { TestContext } from '../support/test-context.ts';
import { buildApp } from '../../broker/app.ts';
import { openServices, type Services } from '../../core/services.ts';
import { createLogger } from '../../core/logging/logger.ts';

describe('deprecated routes announce Sunset and Deprecation', () => {
  let ctx: TestContext;
  let services: Services;
  let app: FastifyInstance;

  beforeAll(async () => {
    ctx = await TestContext.create();
    services = await openServices(
      ctx.config,
      { databaseUrl: ctx.databaseUrl, redisUrl: ctx.redisUrl },
      createLogger('silent'),
    );
    app = await buildApp(services);
    // No v1 route is deprecated yet: mark one the way a future route would be.
    app.get(
      '/v1/old-thing',
      { config: { deprecation: { sunset: '2027-06-01', link: 'https://docs.example/v2' } } },
      async () => ({ ok: true }),
    );
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    await ctx?.close();
  });

  it('sends Deprecation, an RFC 8594 Sunset HTTP-date and a Link on deprecated routes only', async () => {
    const { apiKey } = await ctx.seedKey();
    const res = await app.inject({
      method: 'GET',
      url: '/v1/old-thing',
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers.deprecation).toBe('true');
    expect(res.headers.sunset).toBe('Tue, 01 Jun 2027 00:00:00 GMT');
    expect(res.headers.link).toBe('<https://docs.example/v2>; rel="deprecation"');
    const current = await app.inject({
      method: 'GET',
      url: '/v1/sessions',
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(current.headers.deprecation).toBeUndefined();
  });
});
