import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';

describe('errors are RFC 7807 problem documents', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let api: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create();
    server = await ctx.startApi();
    api = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  function expectProblem(
    res: { status: number; headers: Headers; body: Record<string, unknown> },
    status: number,
    type: string,
  ) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: `${server.url}/errors/${type}`, status });
    expect(typeof res.body.title).toBe('string');
    expect(typeof res.body.detail).toBe('string');
  }

  it('401 without a key, with a malformed key and with an unknown key', async () => {
    const none = await new ApiClient(server.url, undefined).getSession('01JC1AMQX4N3PWV9MR2BCKDH7E');
    expectProblem(none, 401, 'unauthorized');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expectProblem(await new ApiClient(server.url, 'vs_nope').createSession(), 401, 'unauthorized');
    const unknown = new ApiClient(
      server.url,
      'vs_01JC1AMQX4N3PWV9MR2BCKDH7E.abcdefghijklmnopqrstuvwxyz012345',
    );
    expectProblem(await unknown.createSession(), 401, 'unauthorized');
  });

  it('404 for unknown routes and unknown sessions', async () => {
    expectProblem(await api.request('GET', '/v1/nothing-here'), 404, 'not-found');
    expectProblem(await new ApiClient(server.url, undefined).request('GET', '/nothing'), 404, 'not-found');
    expectProblem(await api.getSession('01JC1AMQX4N3PWV9MR2BCKDH7E'), 404, 'not-found');
    expectProblem(await api.getSession('not-a-ulid'), 404, 'not-found');
  });

  it('400 without an Idempotency-Key, for unknown fields, wrong types and out-of-range values', async () => {
    const noKey = await api.request('POST', '/v1/sessions', { body: {} });
    expectProblem(noKey, 400, 'idempotency-key-required');
    const unknownField = await api.createSession({ colour: 'blue' });
    expectProblem(unknownField, 400, 'validation-error');
    expect(unknownField.body.detail).toContain('colour');
    expectProblem(await api.createSession({ timeout_seconds: '1800' }), 400, 'validation-error');
    expectProblem(await api.createSession({ timeout_seconds: 59 }), 400, 'validation-error');
    expectProblem(await api.createSession({ timeout_seconds: 86401 }), 400, 'validation-error');
    expectProblem(await api.createSession({ runtime_kind: 'firefox' }), 400, 'validation-error');
    expectProblem(await api.createSession({ viewport: { width: 800 } }), 400, 'validation-error');
    expectProblem(await api.createSession({ labels: { a: 5 } }), 400, 'validation-error');
    const badJson = await api.request('POST', '/v1/sessions', {
      rawBody: '{"region":',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k-bad-json' },
    });
    expectProblem(badJson, 400, 'validation-error');
    expectProblem(
      await api.request('PATCH', '/v1/sessions/01JC1AMQX4N3PWV9MR2BCKDH7E', { body: { status: 'RUNNING' } }),
      400,
      'validation-error',
    );
  });

  it('422 for an unknown region, a runtime kind without a pool, and storage_state with rda', async () => {
    const region = await api.createSession({ region: 'mars-north1' });
    expectProblem(region, 422, 'unprocessable-entity');
    expect(region.body.detail).toContain('mars-north1');
    const kind = await api.createSession({ runtime_kind: 'rda' });
    expectProblem(kind, 422, 'unprocessable-entity');
    expect(kind.body.detail).toContain('rda');
    expectProblem(
      await api.createSession({ runtime_kind: 'rda', storage_state: { cookies: [] } }),
      422,
      'unprocessable-entity',
    );
  });

  it('a rejected request creates nothing', async () => {
    const { rows } = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions');
    expect(rows[0]!.n).toBe(0);
  });
});
