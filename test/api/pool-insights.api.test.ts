import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { erlangB } from '../../core/capacity/erlang-b.ts';
import { samplePools } from '../../broker/pool-history.ts';

const POOL = 'us-east1-chromium';

interface History {
  pool: string;
  interval_seconds: number;
  samples: { at: string; ready: number; min_ready: number; max_total: number; admitted: number }[];
}
interface Advice {
  missing: string[];
  inputs: { sources: Record<string, string>; mean_session_seconds: number | null };
  advice: { max_total: number; min_ready: number; predicted: { rate_503: number } } | null;
  current: { max_total: number; predicted: { rate_503: number } } | null;
}

describe('pool history and advice (operator, for the dashboard)', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let operator: ApiClient;
  let user: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 1, maxTotal: 3 });
    server = await ctx.startApi();
    operator = new ApiClient(server.url, (await ctx.seedKey(['operator'])).apiKey);
    user = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('samples the figures once per interval across replicas, and serves them oldest first', async () => {
    // The broker sampled on start; a second "replica" within the interval is turned away by the tick.
    await expect
      .poll(
        async () => (await operator.request<History>('GET', `/v1/pools/${POOL}/history`)).body.samples.length,
      )
      .toBe(1);
    await samplePools(server.services, 5_000);
    await operator.request('PATCH', `/v1/pools/${POOL}`, { body: { min_ready: 2 } });
    await server.services.redis.del(server.services.redisKeys.poolHistoryTick(POOL));
    await samplePools(server.services, 5_000);
    const res = await operator.request<History>('GET', `/v1/pools/${POOL}/history?minutes=5`);
    expect(res.status).toBe(200);
    expect(res.body.interval_seconds).toBe(5);
    expect(res.body.samples.map((s) => [s.min_ready, s.max_total])).toEqual([
      [1, 3],
      [2, 3],
    ]);
    expect(Date.parse(res.body.samples[0]!.at)).toBeLessThanOrEqual(Date.parse(res.body.samples[1]!.at));
  });

  it('advises from given traffic with the Erlang-B formula, and says what it could not observe', async () => {
    const observed = await operator.request<Advice>('GET', `/v1/pools/${POOL}/advice`);
    expect(observed.status).toBe(200);
    expect(observed.body.advice).toBeNull();
    expect(observed.body.missing).toEqual(['mean_session', 'start_seconds']);

    const given = await operator.request<Advice>(
      'GET',
      `/v1/pools/${POOL}/advice?arrival_rate=2&mean_session=120&start_seconds=0.4&target_503=0.01`,
    );
    expect(given.status).toBe(200);
    const a = given.body.advice!;
    expect(given.body.inputs.sources).toEqual({
      arrival_rate: 'given',
      mean_session: 'given',
      start_seconds: 'given',
    });
    // The smallest max_total that refuses at most 1 % of 240 erlangs.
    expect(erlangB(a.max_total, 240)).toBeLessThanOrEqual(0.01);
    expect(erlangB(a.max_total - 1, 240)).toBeGreaterThan(0.01);
    expect(given.body.current!.max_total).toBe(3);
    expect(given.body.current!.predicted.rate_503).toBeCloseTo(erlangB(3, 240), 10);
  });

  it('refuses bad input, unknown pools and keys without the operator scope', async () => {
    expect((await operator.request('GET', `/v1/pools/${POOL}/advice?target_503=1`)).status).toBe(400);
    expect((await operator.request('GET', `/v1/pools/${POOL}/history?minutes=0`)).status).toBe(400);
    expect((await operator.request('GET', '/v1/pools/nope-chromium/history')).status).toBe(404);
    expect((await operator.request('GET', '/v1/pools/nope-chromium/advice')).status).toBe(404);
    expect((await user.request('GET', `/v1/pools/${POOL}/history`)).status).toBe(403);
    expect((await user.request('GET', `/v1/pools/${POOL}/advice`)).status).toBe(403);
    // An offered load beyond what the formula sizes is a 422, not a 500.
    const huge = await operator.request(
      'GET',
      `/v1/pools/${POOL}/advice?arrival_rate=10000&mean_session=86400&start_seconds=1`,
    );
    expect(huge.status).toBe(422);
  });
});
