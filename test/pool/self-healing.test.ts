/**
 * Pods die; the pool heals: a warm pod that dies is replaced before anyone claims it, and a held
 * pod that dies ends its session ERRORED (runtime_failure) with its CDP clients disconnected.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { eventually } from '../support/eventually.ts';
import { RawCdp } from '../runtime/raw-cdp.client.ts';
import type { Stack } from '../../stack/stack.ts';

const POOL = 'us-east1-chromium';

describe('self-healing pool', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;

  /** Kills a pod's whole process group (agent and Chromium), as an OOM kill or a crash would. */
  const crash = (podId: string) => {
    const record = JSON.parse(readFileSync(path.join(ctx.dataDir, 'pods', podId, 'pod.json'), 'utf8')) as {
      pid: number;
    };
    process.kill(-record.pid, 'SIGKILL');
  };

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 2, maxTotal: 4, env: { VENTUS_HEADLESS: 'true' } });
    stack = await ctx.startStack();
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
  });

  it('replaces a warm pod that died', async () => {
    const warm = await eventually('2 warm pods', async () => {
      const ids = await stack.services.warmPods.ids(POOL);
      return ids.length === 2 && ids;
    });
    crash(warm[0]!);
    await eventually('the dead pod replaced', async () => {
      const ids = await stack.services.warmPods.ids(POOL);
      return ids.length === 2 && !ids.includes(warm[0]!);
    });
    expect((await stack.driver.getPod(warm[0]!))?.alive).not.toBe(true);
    // A session created now gets a live pod.
    const session = await api.waitFor((await api.createSession()).body.id, ['RUNNING']);
    const cdp = await RawCdp.connect(session.connect_url);
    expect(await cdp.send('Browser.getVersion')).toHaveProperty('product');
    cdp.ws.terminate();
  });

  it('ends a session ERRORED (runtime_failure) when its pod dies, closing its CDP clients', async () => {
    const session = await api.waitFor((await api.createSession({ keep_alive_seconds: 60 })).body.id, [
      'RUNNING',
    ]);
    const cdp = await RawCdp.connect(session.connect_url);
    const closed = new Promise((resolve) => cdp.ws.once('close', resolve));
    const { rows } = await ctx.db.query<{ pod_id: string }>('SELECT pod_id FROM sessions WHERE id = $1', [
      session.id,
    ]);
    crash(rows[0]!.pod_id);

    const ended = await api.waitFor(session.id, ['COMPLETED', 'EXPIRED', 'ERRORED'], 30_000);
    expect(ended).toMatchObject({ status: 'ERRORED', release_reason: 'runtime_failure' });
    await closed;
    const transitions = await api.request<{ items: { to: string; actor: string }[] }>(
      'GET',
      `/v1/sessions/${session.id}/transitions`,
    );
    expect(transitions.body.items.at(-1)).toMatchObject({ to: 'ERRORED', actor: 'pool-controller' });
    await eventually(
      'the dead pod removed',
      async () => (await stack.driver.getPod(rows[0]!.pod_id)) === undefined,
    );
  });

  it('a claim of a pod that died while warm falls back to a cold start, unseen by the user', async () => {
    await eventually('2 warm pods', async () => (await stack.services.warmPods.ids(POOL)).length === 2);
    // No controller from here on: nobody notices the deaths before a session claims the dead pods.
    await stack.controller.close();
    const dead = await stack.services.warmPods.ids(POOL);
    for (const id of dead) crash(id);
    const created = await api.createSession();
    expect(created.status).toBe(202);
    const session = await api.waitFor(created.body.id, ['RUNNING'], 30_000);
    const { rows } = await ctx.db.query<{ pod_id: string }>('SELECT pod_id FROM sessions WHERE id = $1', [
      session.id,
    ]);
    expect(dead).not.toContain(rows[0]!.pod_id);
    expect(await stack.services.warmPods.ids(POOL)).toEqual([]);
    const cdp = await RawCdp.connect(session.connect_url);
    expect(await cdp.send('Browser.getVersion')).toHaveProperty('product');
    cdp.ws.terminate();
  });
});
