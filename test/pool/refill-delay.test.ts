/**
 * A claim's replacement pod waits VENTUS_POOL_REFILL_DELAY_MS while at least half the pool is still
 * warm, so that its start does not land on the claiming session's first page; a pool less than half
 * warm starts its replacements at once, those already waiting included; and a controller that stops
 * drops the starts still waiting (it neither starts them after it stopped nor waits them out). Sim
 * pods (50 ms starts), pool of 2, the reconcile interval a minute away: only the claims' refills start
 * pods here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/config.ts';
import type { Stack } from '../../stack/stack.ts';
import { ApiClient } from '../support/api-client.ts';
import { eventually } from '../support/eventually.ts';
import { poolSnapshot } from '../support/pool-snapshot.ts';
import { TestContext } from '../support/test-context.ts';

const POOL = 'us-east1-chromium';
const MIN_READY = 2;

interface FullPool {
  stack: Stack;
  api: ApiClient;
  /** When the driver was asked to create each pod (ms since the epoch). */
  creates: number[];
  /** Set by a test that closed the stack itself. */
  closed: boolean;
}

/**
 * For the enclosing describe: a sim stack with the given refill delay whose pool is full before the
 * tests run, recording each pod the driver is asked to create; closed after them.
 */
function fullPool(delayMs: number): FullPool {
  const pool = {} as FullPool;
  let ctx: TestContext | undefined;
  beforeAll(async () => {
    ctx = await TestContext.create({
      minReady: MIN_READY,
      maxTotal: 10,
      env: {
        VENTUS_DRIVER: 'sim',
        VENTUS_SIM_READY_MS: '50',
        VENTUS_RECONCILE_INTERVAL_MS: '60000',
        VENTUS_POOL_REFILL_DELAY_MS: String(delayMs),
      },
    });
    const stack = await ctx.startStack();
    Object.assign(pool, { stack, creates: [], closed: false });
    const create = stack.driver.createPod.bind(stack.driver);
    stack.driver.createPod = (spec, signal) => {
      pool.creates.push(Date.now());
      return create(spec, signal);
    };
    await eventually(
      'full passes fill the pool',
      async () => (await warmCount(stack)) === MIN_READY || (await stack.controller.reconcileNow(), false),
      // A busy CI machine (the suite's other files starting pods) can take longer than the default.
      { everyMs: 500, timeoutMs: 90_000 },
    );
    pool.api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    if (!pool.closed) await pool.stack?.close();
    await ctx?.close();
  });
  return pool;
}

async function warmCount(stack: Stack): Promise<number> {
  return (await poolSnapshot(stack.services.redis, stack.services.redisKeys, POOL)).warm;
}

describe('the refill waits while half the pool is warm', () => {
  const DELAY_MS = 3_000;
  const pool = fullPool(DELAY_MS);

  it('starts the replacement no sooner than the delay after the claim', async () => {
    const { stack, api, creates } = pool;
    const before = creates.length;
    const sent = Date.now();
    const created = await api.createSession();
    expect(created.status).toBe(202);
    await api.waitFor(created.body.id, ['RUNNING']);
    // One of two still warm: the replacement is decided now and started after the delay.
    await eventually('the replacement is warm', async () => (await warmCount(stack)) === MIN_READY, {
      timeoutMs: DELAY_MS + 20_000,
    });
    expect(creates.length).toBe(before + 1);
    expect(creates[before]! - sent).toBeGreaterThanOrEqual(DELAY_MS);
  });
});

describe('the refill of a pool less than half warm', () => {
  /** Far longer than any wait below: a start that waited it out would fail them. */
  const DELAY_MS = 60_000;
  const pool = fullPool(DELAY_MS);

  /** Claims a pod; resolves once its replacement is decided and waiting (counted, not created). */
  async function claimAndWait(): Promise<void> {
    const { stack, api, creates } = pool;
    const before = creates.length;
    const created = await api.createSession();
    await api.waitFor(created.body.id, ['RUNNING']);
    await eventually(
      'the replacement waiting',
      async () => stack.controller.reconciler.startingCount(POOL) === 1,
    );
    expect(creates.length).toBe(before);
  }

  it('starts its replacements at once once it drains, those already waiting included', async () => {
    const { stack, api, creates } = pool;
    const before = creates.length;
    await claimAndWait(); // one of two warm: the replacement waits
    const second = await api.createSession();
    await api.waitFor(second.body.id, ['RUNNING']);
    // None warm now: both replacements start without waiting the minute out.
    await eventually('the pool full again', async () => (await warmCount(stack)) === MIN_READY, {
      timeoutMs: 20_000,
    });
    expect(creates.length).toBe(before + 2);
  });

  it('a stopping controller drops the start still waiting, and does not wait it out', async () => {
    const { stack, creates } = pool;
    await claimAndWait();
    const before = creates.length;
    const closing = Date.now();
    await stack.close();
    pool.closed = true;
    expect(creates.length).toBe(before); // nothing created during or after the close
    expect(Date.now() - closing).toBeLessThan(DELAY_MS / 2);
  }, 45_000);
});

describe('VENTUS_POOL_REFILL_DELAY_MS', () => {
  it('is 300 ms on the local driver and 0 on Kubernetes and the sim unless set; 0 to 60000, anything else refused', () => {
    expect(loadConfig({}).refillDelayMs).toBe(300);
    expect(loadConfig({ VENTUS_DRIVER: 'sim' }).refillDelayMs).toBe(0);
    expect(loadConfig({ VENTUS_DRIVER: 'kubernetes', VENTUS_K8S_IMAGE: 'ventus/pod' }).refillDelayMs).toBe(0);
    expect(loadConfig({ VENTUS_POOL_REFILL_DELAY_MS: '0' }).refillDelayMs).toBe(0);
    expect(loadConfig({ VENTUS_DRIVER: 'sim', VENTUS_POOL_REFILL_DELAY_MS: '250' }).refillDelayMs).toBe(250);
    for (const bad of ['-1', '60001', 'soon']) {
      expect(() => loadConfig({ VENTUS_POOL_REFILL_DELAY_MS: bad })).toThrow(/VENTUS_POOL_REFILL_DELAY_MS/);
    }
  });
});
