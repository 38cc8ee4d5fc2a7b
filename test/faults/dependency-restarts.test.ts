/**
 * Postgres and Redis restart under a stream of session lifecycles. Each test gets a Postgres cluster
 * and a redis-server of its own (never the machine's shared ones) and stops them mid-stream: while a
 * store is down the broker answers 503 problem documents within a deadline (no hang, no 500), and
 * once it is back every invariant of the fault suite holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultHarness } from '../support/fault-harness.ts';
import { ThrowawayPostgres, ThrowawayRedis } from '../support/throwaway-services.ts';
import type { Traffic } from '../../load-tests/soak/traffic.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const kinds = ['release', 'cdp', 'keepalive'] as const;

/** Creates and reads while the store is down: each must be answered, and a 503 problem document. */
async function probeWhileDown(traffic: Traffic, sessionId: string | undefined): Promise<number[]> {
  const statuses: number[] = [];
  const calls = [
    () => traffic.call('POST', '/v1/sessions', {}, { 'idempotency-key': crypto.randomUUID() }),
    ...(sessionId ? [() => traffic.call('GET', `/v1/sessions/${sessionId}`)] : []),
    () => traffic.call('GET', '/v1/sessions?limit=5'),
  ];
  for (const call of calls) {
    const started = Date.now();
    const answer = await call();
    expect(answer, 'an answer, not a cut connection').toBeDefined();
    expect(Date.now() - started, 'answered within 10 s').toBeLessThan(10_000);
    statuses.push(answer!.status);
  }
  return statuses;
}

async function stream(h: FaultHarness) {
  const traffic = await h.traffic({ callDeadlineMs: 15_000, patienceMs: 45_000 });
  let i = 0;
  const done = traffic.run({
    durationMs: 12_000,
    rate: 4,
    maxInFlight: 10,
    pick: () => kinds[i++ % kinds.length]!,
  });
  return { traffic, done };
}

// One stack on a Postgres and a Redis of its own serves both faults (a four-process start is costly).
describe('the stores restart mid-stream', () => {
  let pg: ThrowawayPostgres;
  let redis: ThrowawayRedis;
  let h: FaultHarness;
  beforeAll(async () => {
    [pg, redis] = await Promise.all([ThrowawayPostgres.create(), ThrowawayRedis.create()]);
    h = await FaultHarness.start({ minReady: 2, maxTotal: 12, adminUrl: pg.adminUrl, redisUrl: redis.url });
  });
  afterAll(async () => {
    // ctx.close needs both back.
    await pg?.start().catch(() => undefined);
    await redis?.start().catch(() => undefined);
    await h?.close();
    await Promise.all([pg?.destroy(), redis?.destroy()]);
  });

  it('Postgres: 503s while it is down, then every lifecycle completes and nothing is lost or leaked', async () => {
    const { traffic, done } = await stream(h);
    await sleep(4_000);
    const someSession = traffic.answered.values().next().value?.values().next().value;
    await pg.stop();
    const statuses = await probeWhileDown(traffic, someSession);
    expect(
      statuses.every((s) => s === 503),
      `statuses while Postgres is down: ${statuses.join(', ')}`,
    ).toBe(true);
    await sleep(3_000);
    await pg.start();
    await done;
    await h.releaseAll(traffic);
    await h.assertInvariants(traffic, 'after a Postgres restart');
    expect(traffic.answered.size).toBeGreaterThan(15);
  }, 150_000);

  it('Redis: 503s while it is down, rebuilds from Postgres after, and nothing is lost or leaked', async () => {
    const { traffic, done } = await stream(h);
    await sleep(4_000);
    const someSession = traffic.answered.values().next().value?.values().next().value;
    await redis.kill();
    const statuses = await probeWhileDown(traffic, someSession);
    // A read needs only Postgres: 200 is right for it; what needs Redis (a create) must be a 503.
    expect(statuses[0], `create while Redis is down: ${statuses.join(', ')}`).toBe(503);
    expect(statuses.every((s) => s === 503 || s === 200)).toBe(true);
    await sleep(3_000);
    await redis.start(); // the same port, no data: a flush and a restart at once
    await done;
    await h.releaseAll(traffic);
    await h.assertInvariants(traffic, 'after a Redis restart');
    expect(traffic.answered.size).toBeGreaterThan(15);
  }, 150_000);
});
