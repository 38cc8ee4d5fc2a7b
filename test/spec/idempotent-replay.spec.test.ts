import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { SPEC } from './spec-sentences.ts';

describe(SPEC.idempotentReplay, () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let api: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 5 });
    server = await ctx.startApi();
    api = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  const post = (key: string, rawBody: string, contentType = 'application/json') =>
    api.request('POST', '/v1/sessions', {
      rawBody,
      headers: { 'content-type': contentType, 'idempotency-key': key },
    });

  it('a replay whose body fails the schema, is not JSON or is not even JSON-typed gets the original, 200', async () => {
    const key = randomUUID();
    const first = await api.createSession({ labels: { run: 'first' } }, key);
    expect(first.status).toBe(202);
    const replays = [
      await api.createSession({ timeout_seconds: 5 }, key), // out of range
      await api.createSession({ colour: 'blue' }, key), // unknown field
      await post(key, '{"region":'), // not JSON
      await post(key, 'region=us-east1', 'text/plain'), // not application/json
      await post(key, JSON.stringify({ labels: { ['x'.repeat(10_000)]: 'v' } })), // a key far too long
    ];
    for (const replay of replays) {
      expect(replay.status).toBe(200);
      expect(replay.body).toMatchObject({ id: first.body.id, labels: { run: 'first' } });
      expect(replay.headers.get('location')).toBe(`/v1/sessions/${first.body.id}`);
    }
    const { rows } = await ctx.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM sessions WHERE labels @> $1',
      [JSON.stringify({ run: 'first' })],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('a new key with the same bad body is still a 400: replay comes first, validation still holds', async () => {
    const bad = await api.createSession({ timeout_seconds: 5 }, randomUUID());
    expect(bad.status).toBe(400);
    expect(bad.body.type).toMatch(/\/errors\/validation-error$/);
  });

  it("the key is per workspace: another workspace's bad body with the same key is judged on its own", async () => {
    const key = randomUUID();
    expect((await api.createSession({}, key)).status).toBe(202);
    const other = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
    expect((await other.createSession({ timeout_seconds: 5 }, key)).status).toBe(400);
  });

  it('after 24 h the key is free again: a bad body under an old key is validated (400)', async () => {
    const key = randomUUID();
    expect((await api.createSession({}, key)).status).toBe(202);
    // The clock is the one double allowed: age the key past the window.
    await ctx.db.query(
      "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1",
      [key],
    );
    expect((await api.createSession({ timeout_seconds: 5 }, key)).status).toBe(400);
    expect((await api.createSession({}, key)).status).toBe(202);
  });
});
