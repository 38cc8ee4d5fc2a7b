/**
 * Operators tune a running pool: the controller picks a PATCH up at once, adds warm pods up to
 * min_ready, retires only idle ones on the way down, and a lowered max_total never ends a session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { eventually } from '../support/eventually.ts';
import { poolSnapshot } from '../support/pool-snapshot.ts';
import type { Stack } from '../../stack/stack.ts';

const POOL = 'us-east1-chromium';
interface PoolBody {
  min_ready: number;
  max_total: number;
  status: { ready: number; warming: number; admitted: number; held: number };
}

describe('live pool tuning', () => {
  let ctx: TestContext;
  let stack: Stack;
  let operator: ApiClient;
  let tenant: ApiClient;
  /** Every atomic sample of warm + held pods over the pool's max_total. */
  const violations: string[] = [];
  /** The max_total the samples hold the pool to: a lowered one once the controller has acted on it. */
  let limit = 8;
  let sampler: NodeJS.Timeout | undefined;

  const pool = async () => (await operator.request<PoolBody>('GET', `/v1/pools/${POOL}`)).body;
  const patch = async (body: Record<string, number>) => {
    const res = await operator.request<PoolBody>('PATCH', `/v1/pools/${POOL}`, { body });
    expect(res.status).toBe(200);
    return res.body;
  };
  const alivePods = async () => (await stack.driver.listPods()).filter((p) => p.alive);

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 2, maxTotal: 8, env: { VENTUS_HEADLESS: 'true' } });
    stack = await ctx.startStack();
    operator = new ApiClient(stack.url, (await ctx.seedKey(['operator'])).apiKey);
    tenant = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
    sampler = setInterval(() => {
      void poolSnapshot(stack.services.redis, stack.services.redisKeys, POOL)
        .then(({ warm, held }) => {
          if (warm + held > Math.max(limit, held)) {
            violations.push(`warm ${warm} + held ${held} > max_total ${limit}`);
          }
        })
        .catch(() => {});
    }, 50);
  });
  afterAll(async () => {
    clearInterval(sampler);
    await stack?.close();
    await ctx?.close();
  });

  it('raises min_ready from 2 to 6 and back to 2, retiring idle pods only', async () => {
    await eventually('2 warm pods', async () => (await pool()).status.ready === 2);
    const session = await tenant.waitFor((await tenant.createSession({ timeout_seconds: 300 })).body.id, [
      'RUNNING',
    ]);
    const heldPod = (
      await ctx.db.query<{ pod_id: string }>('SELECT pod_id FROM sessions WHERE id = $1', [session.id])
    ).rows[0]!.pod_id;
    await eventually('2 warm pods after the claim', async () => (await pool()).status.ready === 2);

    const raisedAt = Date.now();
    expect(await patch({ min_ready: 6 })).toMatchObject({ min_ready: 6 });
    await eventually('6 warm pods', async () => (await pool()).status.ready === 6);
    console.log(`min_ready 2 -> 6: 6 warm pods after ${Date.now() - raisedAt} ms`);
    expect((await alivePods()).map((p) => p.id)).toContain(heldPod);
    expect(await pool()).toMatchObject({ status: { ready: 6, held: 1 } });

    await patch({ min_ready: 2 });
    await eventually('2 warm pods again', async () => (await pool()).status.ready === 2);
    await eventually('idle pods deleted', async () => (await alivePods()).length === 3);
    expect((await alivePods()).map((p) => p.id)).toContain(heldPod);
    expect((await tenant.getSession(session.id)).body.status).toBe('RUNNING');
  });

  it('a max_total below the running sessions ends none of them; new creates get 503', async () => {
    const running = await tenant.waitFor((await tenant.createSession({ timeout_seconds: 300 })).body.id, [
      'RUNNING',
    ]);
    await patch({ min_ready: 0, max_total: 1 });
    await eventually('no warm pods', async () => (await pool()).status.ready === 0);
    limit = 1;
    expect(await pool()).toMatchObject({ max_total: 1, status: { ready: 0, held: 2, admitted: 2 } });
    expect((await tenant.getSession(running.id)).body.status).toBe('RUNNING');
    expect((await tenant.createSession()).status).toBe(503);
    await eventually('only the 2 held pods alive', async () => (await alivePods()).length === 2);
    // Room returns only once both have ended: releasing one leaves the pool at its new max.
    await tenant.release(running.id);
    await eventually('slot freed', async () => (await pool()).status.admitted === 1);
    expect((await tenant.createSession()).status).toBe(503);
  });

  it('never had warm + held above max_total (or the sessions holding a pod) at any sample', () => {
    expect(violations).toEqual([]);
  });
});
