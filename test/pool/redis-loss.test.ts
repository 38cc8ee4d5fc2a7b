/**
 * Redis is the fast path, Postgres the truth: after Redis loses every key of the installation
 * (a flush), a RUNNING session stays reachable over CDP, admission still counts it, its expiry still
 * fires, and the warm pods nobody can account for any more are reaped and replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { eventually } from '../support/eventually.ts';
import { RawCdp } from '../runtime/raw-cdp.client.ts';
import type { Stack } from '../../stack/stack.ts';

describe('Redis loses its data', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({
      minReady: 1,
      maxTotal: 2,
      env: { VENTUS_HEADLESS: 'true', VENTUS_ORPHAN_GRACE_MS: '1000' },
    });
    stack = await ctx.startStack();
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
  });

  it('rebuilds routes, slots, timers and the warm pool from Postgres and the driver', async () => {
    const created = await api.createSession({ timeout_seconds: 600, keep_alive_seconds: 60 });
    const session = await api.waitFor(created.body.id, ['RUNNING']);
    // A started pod is listed by the driver a moment before it joins the warm list: wait for both.
    await eventually(
      'a warm pod besides the held one',
      async () =>
        (await stack.driver.listPods()).length === 2 &&
        (await stack.services.warmPods.ids('us-east1-chromium')).length === 1,
    );
    const warmBefore = await stack.services.warmPods.ids('us-east1-chromium');
    expect(warmBefore).toHaveLength(1);

    // Due in 4 s now; the timer Redis held was for 600 s and is lost with it: only Postgres knows.
    await ctx.db.query("UPDATE sessions SET expires_at = now() + interval '4 seconds' WHERE id = $1", [
      session.id,
    ]);
    const redis = stack.services.redis;
    await redis.del(...(await redis.keys(`${ctx.name}:*`)));

    // The route comes back: a CDP client connects through the proxy and gets an answer.
    const cdp = await eventually('CDP through the proxy', async () => RawCdp.connect(session.connect_url), {
      everyMs: 200,
    });
    const version = await cdp.send<{ product: string }>('Browser.getVersion');
    expect(version.product).toMatch(/Chrome/);

    // Admission counts the running session (max_total 2): of ten racing creates exactly one gets in.
    const results = await Promise.all(
      Array.from({ length: 10 }, () => api.createSession({ timeout_seconds: 600 })),
    );
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);

    // The warm pod Redis forgot is reaped; the session's pod is not.
    await eventually('the forgotten warm pod reaped', async () => {
      const ids = (await stack.driver.listPods()).map((p) => p.id);
      return !ids.includes(warmBefore[0]!);
    });
    // The expiry timer was rebuilt: the session ends EXPIRED at its expires_at.
    const ended = await api.waitFor(session.id, ['COMPLETED', 'EXPIRED', 'ERRORED'], 30_000);
    expect(ended).toMatchObject({ status: 'EXPIRED', release_reason: 'timeout' });
    cdp.ws.terminate();
  });
});
