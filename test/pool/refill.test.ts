/**
 * A claim refills the pool at once with a refill pass, not a full reconcile: the replacement pod is
 * started without waiting for the interval, and without probing every warm pod again (the full
 * pass's per-claim cost the controller used to pay, growing with min_ready). The interval is a
 * minute here, so only the claims can have started the replacements. The claim itself probes
 * nothing either: POST /session to the agent is the warm pod's health check. The claim's wake-up
 * comes once its session is RUNNING: in one process the replacement's start would otherwise compete
 * with the hand-over.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { eventually } from '../support/eventually.ts';
import { poolSnapshot } from '../support/pool-snapshot.ts';
import { recordProbes } from '../support/probe-recorder.ts';
import type { Stack } from '../../stack/stack.ts';

const POOL = 'us-east1-chromium';
const MIN_READY = 3;

describe('pool refill after a claim', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;
  /** Pods health-probed since the pool was full. */
  let probed: string[];

  beforeAll(async () => {
    const env = { VENTUS_DRIVER: 'sim', VENTUS_SIM_READY_MS: '50', VENTUS_RECONCILE_INTERVAL_MS: '60000' };
    ctx = await TestContext.create({ minReady: MIN_READY, maxTotal: 10, env });
    stack = await ctx.startStack();
    probed = recordProbes(stack.driver);
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
  });

  const warmCount = async () =>
    (await poolSnapshot(stack.services.redis, stack.services.redisKeys, POOL)).warm;

  it('starts a replacement for each claimed pod at once, probing no pod', async () => {
    // Full passes until the pool is full (a start that failed on a busy machine is retried by the
    // next one, and the interval's is a minute away); none runs after it.
    await eventually(
      'full passes fill the pool',
      async () => (await warmCount()) === MIN_READY || (await stack.controller.reconcileNow(), false),
      { everyMs: 500 },
    );
    probed.length = 0;
    for (let i = 0; i < 2; i++) {
      const created = await api.createSession();
      expect(created.status).toBe(202);
      await api.waitFor(created.body.id, ['RUNNING']);
    }
    // Two pods held, the pool back at min_ready: replacements started by the claims' refills.
    await eventually('the claims refill the pool', async () => (await warmCount()) === MIN_READY, {
      timeoutMs: 20_000,
    });
    const { held } = await poolSnapshot(stack.services.redis, stack.services.redisKeys, POOL);
    expect(held).toBe(2);
    // Nothing was probed: not the warm pods (the refill does not look at them), not the claimed
    // ones (the claim itself, POST /session to the agent, is their health check).
    expect(await stack.services.warmPods.ids(POOL)).toHaveLength(MIN_READY);
    expect(probed).toEqual([]);
  });

  it('wakes the controller once the claiming session is RUNNING, not before', async () => {
    const listener = new Redis(ctx.redisUrl);
    /** Sessions still PROVISIONING when each pool-changed wake-up was heard. */
    const provisioningAtWakeUp: number[] = [];
    const heard: Promise<void>[] = [];
    try {
      await listener.subscribe(stack.services.redisKeys.poolChangedChannel());
      listener.on('message', () => {
        heard.push(
          ctx.db
            .query<{ n: number }>("SELECT count(*)::int AS n FROM sessions WHERE status = 'PROVISIONING'")
            .then(({ rows }) => void provisioningAtWakeUp.push(rows[0]!.n)),
        );
      });
      for (let i = 0; i < 3; i++) {
        const created = await api.createSession();
        expect(created.status).toBe(202);
        await api.waitFor(created.body.id, ['RUNNING']);
        await eventually('the claim to wake the controller', async () => heard.length > i);
      }
      await Promise.all(heard);
      expect(provisioningAtWakeUp.length).toBeGreaterThanOrEqual(3);
      expect(provisioningAtWakeUp).toEqual(provisioningAtWakeUp.map(() => 0));
    } finally {
      listener.disconnect();
    }
  });
});
