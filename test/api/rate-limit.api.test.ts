import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';

describe('rate limiting and request ids', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;

  beforeAll(async () => {
    ctx = await TestContext.create({ env: { VENTUS_RATE_LIMIT_PER_MINUTE: '5' } });
    server = await ctx.startApi();
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('limits each key separately: 429 rate-limited with Retry-After and RateLimit-* headers', async () => {
    const a = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
    const b = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
    const first = await a.request('GET', '/v1/sessions');
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe('5');
    expect(first.headers.get('ratelimit-remaining')).toBe('4');
    for (let i = 0; i < 4; i++) expect((await a.request('GET', '/v1/sessions')).status).toBe(200);
    const limited = await a.request('GET', '/v1/sessions');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({
      type: expect.stringMatching(/\/errors\/rate-limited$/) as string,
      status: 429,
    });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another key has its own budget; unauthenticated documents are not limited.
    expect((await b.request('GET', '/v1/sessions')).status).toBe(200);
    for (let i = 0; i < 7; i++) expect((await fetch(`${server.url}/openapi.json`)).status).toBe(200);
  });

  it('every response carries a server-generated X-Request-Id', async () => {
    const res = await fetch(`${server.url}/v1/sessions`, { headers: { 'x-request-id': 'client-chosen' } });
    expect(res.status).toBe(401);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(id).not.toBe('client-chosen');
    const ok = await fetch(`${server.url}/healthz`);
    expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
