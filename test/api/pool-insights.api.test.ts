import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { erlangB } from '../../core/capacity/erlang-b.ts';
import { samplePools } from '../../core/pools/pool-history.ts';
import { createDriver } from '../../core/runtime/create-driver.ts';
import { startWorkers } from '../../workers/workers.ts';

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

  it('samples every pool and serves the samples oldest first', async () => {
    await samplePools(server.services);
    await operator.request('PATCH', `/v1/pools/${POOL}`, { body: { min_ready: 2 } });
    await samplePools(server.services);
    const res = await operator.request<History>('GET', `/v1/pools/${POOL}/history?minutes=5`);
    expect(res.status).toBe(200);
    expect(res.body.interval_seconds).toBe(5);
    expect(res.body.samples.map((s) => [s.min_ready, s.max_total])).toEqual([
      [1, 3],
      [2, 3],
    ]);
    expect(Date.parse(res.body.samples[0]!.at)).toBeLessThanOrEqual(Date.parse(res.body.samples[1]!.at));
    await server.services.redis.del(server.services.redisKeys.poolHistory(POOL));
  });

  it('is sampled by a job scheduler: one run per interval, however many workers run', async () => {
    // Two worker replicas (each schedules the job on start), then a 250 ms interval for the test.
    const driver = createDriver(ctx.config, server.services.agentAccess);
    const replicas = [
      startWorkers(server.services, { driver, headless: true }),
      startWorkers(server.services, { driver, headless: true }),
    ];
    try {
      await server.services.jobs.schedule('pool-history-sample', {}, 250);
      const started = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const count = async () =>
        (await operator.request<History>('GET', `/v1/pools/${POOL}/history`)).body.samples.length;
      // A timer per replica would sample twice per interval (about 20 here); the scheduler runs once
      // per interval (each upsert may add one run at once). A busy machine only makes fewer runs.
      const intervals = Math.ceil((Date.now() - started) / 250);
      expect(await count()).toBeLessThanOrEqual(intervals + 3);
      await expect.poll(count, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
    } finally {
      await server.services.jobs.schedule('pool-history-sample', {}, 5_000);
      await Promise.all(replicas.map((w) => w.close()));
    }
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
