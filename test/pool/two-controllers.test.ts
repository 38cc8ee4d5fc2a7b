/**
 * Two pool controllers at once (a rolling deploy, a network blip) never overshoot the pool: the
 * leader lease decides who acts, and every warm pod is added under a fence (the lease token and
 * `warm + admitted < max_total`, in one Lua step), so `warm + held <= max_total` at every sample
 * while the lease is yanked away from whoever holds it, over and over, under steady traffic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { startExtraController, type ExtraController } from '../support/extra-controller.ts';
import { ApiClient } from '../support/api-client.ts';
import { poolSnapshot } from '../support/pool-snapshot.ts';
import type { Stack } from '../../stack/stack.ts';

const POOL = 'us-east1-chromium';
const MAX_TOTAL = 6;
const RACE_MS = Number(process.env.VENTUS_RACE_MS ?? 60_000);

describe('two pool controllers racing', () => {
  let ctx: TestContext;
  let stack: Stack;
  let second: ExtraController;
  let api: ApiClient;

  beforeAll(async () => {
    const env = { VENTUS_DRIVER: 'sim', VENTUS_SIM_READY_MS: '150', VENTUS_RATE_LIMIT_PER_MINUTE: '100000' };
    ctx = await TestContext.create({ minReady: 3, maxTotal: MAX_TOTAL, env });
    stack = await ctx.startStack();
    second = await startExtraController(ctx);
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await second?.close();
    await stack?.close();
    await ctx?.close();
  });

  it(
    `keeps warm + held <= max_total at every sample for ${RACE_MS / 1000} s`,
    async () => {
      const redis = stack.services.redis;
      const keys = stack.services.redisKeys;
      const samples: { warm: number; held: number }[] = [];
      const leaders = new Set<string>();
      let stop = false;

      const sampler = (async () => {
        while (!stop) {
          const { warm, held } = await poolSnapshot(redis, keys, POOL);
          samples.push({ warm, held });
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const usurper = (async () => {
        while (!stop) {
          await new Promise((r) => setTimeout(r, 700));
          const holder = await redis.get(keys.controllerLeader());
          if (holder) leaders.add(holder);
          await redis.del(keys.controllerLeader()); // whoever asks next leads
        }
      })();
      const outcomes = { admitted: 0, refused: 0 };
      const traffic = Array.from({ length: 8 }, async () => {
        while (!stop) {
          const created = await api.createSession();
          if (created.status !== 202) {
            outcomes.refused++;
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          outcomes.admitted++;
          await api.waitFor(created.body.id, ['RUNNING'], 30_000);
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
          await api.release(created.body.id);
        }
      });

      await new Promise((r) => setTimeout(r, RACE_MS));
      stop = true;
      await Promise.all([sampler, usurper, ...traffic]);

      const over = samples.filter((s) => s.warm + s.held > MAX_TOTAL);
      console.log(
        `${samples.length} samples, ${leaders.size} distinct leaders, ${outcomes.admitted} sessions admitted, ` +
          `${outcomes.refused} refused, max warm + held ${Math.max(...samples.map((s) => s.warm + s.held))}`,
      );
      expect(over).toEqual([]);
      expect(leaders.size).toBe(2); // both controllers led at some point
      expect(outcomes.admitted).toBeGreaterThan(20);
      expect(Math.max(...samples.map((s) => s.warm + s.held))).toBe(MAX_TOTAL); // the pool was really full
    },
    RACE_MS + 120_000,
  );
});
