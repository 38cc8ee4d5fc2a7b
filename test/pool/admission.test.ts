/**
 * Exact admission under concurrency: one atomic Redis step per create, so N racing creates against
 * room for C admit exactly C, and every refusal is an honest 503 with a Retry-After from the pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { getPool } from '../../core/db/pools.repository.ts';
import { restorePoolSlots } from '../../core/pools/restore-slots.ts';

const MAX_TOTAL = 20;
const CREATES = 500;

describe('admission', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let api: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: MAX_TOTAL, env: { VENTUS_RATE_LIMIT_PER_MINUTE: '100000' } });
    server = await ctx.startApi();
    api = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it(`${CREATES} concurrent creates against max_total ${MAX_TOTAL} admit exactly ${MAX_TOTAL}`, async () => {
    const results = await Promise.all(
      Array.from({ length: CREATES }, () => api.createSession({ timeout_seconds: 600 })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(MAX_TOTAL);
    expect(statuses.filter((s) => s === 503)).toHaveLength(CREATES - MAX_TOTAL);

    const { rows } = await ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sessions WHERE status = 'QUEUED'`,
    );
    expect(rows[0]!.n).toBe(MAX_TOTAL);
    expect(await server.services.poolSlots.activeCount('us-east1-chromium')).toBe(MAX_TOTAL);

    const refused = results.find((r) => r.status === 503)!;
    expect(String(refused.body.type)).toMatch(/insufficient-capacity$/);
    expect(refused.body.status).toBe(503);
    expect(String(refused.body.detail)).toMatch(
      /^No agents in region us-east1 had spare capacity at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\. Retry after the pool drains; us-east1 is the only region available today\.$/,
    );
    // Retry-After comes from the pool: the admitted sessions expire in ~600 s.
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(500);
    expect(retryAfter).toBeLessThanOrEqual(600);
  });

  it('admits again as soon as a slot is freed, and only one of many racing creates gets it', async () => {
    const { rows } = await ctx.db.query<{ id: string }>(
      `SELECT id FROM sessions WHERE status = 'QUEUED' LIMIT 1`,
    );
    const released = await api.request('PATCH', `/v1/sessions/${rows[0]!.id}`, {
      body: { status: 'REQUEST_RELEASE' },
    });
    expect(released.status).toBe(200);
    // No workers run here: free the slot as the teardown job would.
    await server.services.poolSlots.release('us-east1-chromium', rows[0]!.id);
    const results = await Promise.all(Array.from({ length: 50 }, () => api.createSession()));
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
  });

  it('after Redis loses its data, admission is rebuilt from Postgres and still refuses past max_total', async () => {
    const redis = server.services.redis;
    const keys = await redis.keys(`${ctx.name}:*`);
    await redis.del(...keys);
    const results = await Promise.all(Array.from({ length: 30 }, () => api.createSession()));
    expect(results.filter((r) => r.status === 202)).toHaveLength(0);
    expect(await server.services.poolSlots.activeCount('us-east1-chromium')).toBe(MAX_TOTAL);
  });

  it('a lower max_total holds from the PATCH answer on; a controller pass that read the old one cannot undo it', async () => {
    const pool = 'us-east1-chromium';
    const operator = new ApiClient(server.url, (await ctx.seedKey(['operator'])).apiKey);
    const stale = (await getPool(ctx.db, pool))!;
    // Room for 5 more: the next create must be admitted.
    await operator.request('PATCH', `/v1/pools/${pool}`, { body: { max_total: MAX_TOTAL + 5 } });
    expect((await api.createSession()).status).toBe(202);

    const lowered = await operator.request('PATCH', `/v1/pools/${pool}`, { body: { max_total: 1 } });
    expect(lowered.status).toBe(200);
    // A pool-controller pass that listed the settings before the PATCH now publishes what it read.
    const beforeLowering = (await getPool(ctx.db, pool))!;
    await restorePoolSlots(server.services, {
      ...beforeLowering,
      maxTotal: MAX_TOTAL + 5,
      updatedAt: stale.updatedAt,
    });
    expect((await api.createSession()).status).toBe(503);
    // A pass that read the settings after the PATCH publishes them again: still refused.
    await restorePoolSlots(server.services, beforeLowering);
    expect((await api.createSession()).status).toBe(503);
  });
});
