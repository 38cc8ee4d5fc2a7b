/**
 * Warm pods' browsers are probed on a ration, not on every pass: a probe costs the pod CPU (the
 * agent asks Chromium over a fresh DevTools connection), and the pool stands idle most of its life.
 * A pod whose process died is still seen on every pass (test/pool/self-healing.test.ts), and a
 * wedged warm browser is still replaced (test/faults/chromium-faults.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { eventually } from '../support/eventually.ts';
import { poolSnapshot } from '../support/pool-snapshot.ts';
import { recordProbes } from '../support/probe-recorder.ts';
import { WARM_PROBE_INTERVAL_MS } from '../../pool-controller/fleet-scaler.ts';
import type { Stack } from '../../stack/stack.ts';

const POOL = 'us-east1-chromium';
const MIN_READY = 3;
const PASS_MS = 200;

describe('warm pod probes', () => {
  let ctx: TestContext;
  let stack: Stack;
  /** Pods health-probed, in order. */
  let probed: string[];

  beforeAll(async () => {
    const env = {
      VENTUS_DRIVER: 'sim',
      VENTUS_SIM_READY_MS: '50',
      VENTUS_RECONCILE_INTERVAL_MS: String(PASS_MS),
    };
    ctx = await TestContext.create({ minReady: MIN_READY, maxTotal: 10, env });
    stack = await ctx.startStack();
    probed = recordProbes(stack.driver);
  });
  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
  });

  it(`probes each warm pod about once every ${WARM_PROBE_INTERVAL_MS} ms, not on every ${PASS_MS} ms pass`, async () => {
    await eventually(
      'the pool full',
      async () =>
        (await poolSnapshot(stack.services.redis, stack.services.redisKeys, POOL)).warm === MIN_READY,
    );
    const warm = await stack.services.warmPods.ids(POOL);
    probed.length = 0;
    const windowMs = WARM_PROBE_INTERVAL_MS * 2 + 1_000;
    await new Promise((r) => setTimeout(r, windowMs));
    // Still the same pods (nothing claimed them), each probed about twice in the window (once
    // per interval; at least once on a busy machine), where a probe per pass would be ~55 times.
    expect(await stack.services.warmPods.ids(POOL)).toEqual(warm);
    for (const id of warm) {
      const times = probed.filter((p) => p === id).length;
      expect(times, `probes of ${id} in ${windowMs} ms`).toBeGreaterThanOrEqual(1);
      expect(times, `probes of ${id} in ${windowMs} ms`).toBeLessThanOrEqual(3);
    }
  });
});
