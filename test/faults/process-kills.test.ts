/**
 * SIGKILL of a process at a bad moment loses no session and leaks no pod: the four processes run
 * as separate OS processes (as in production) and one is killed while it is mid-way through work.
 */
import { testLocalDriver } from '../support/local-driver.ts';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { eventually } from '../support/eventually.ts';
import { ProcessStack } from '../support/process-stack.ts';
import { LocalDriver } from '../../core/runtime/local.driver.ts';
import { RawCdp } from '../runtime/raw-cdp.client.ts';

const POOL = 'us-east1-chromium';
const ENV = { VENTUS_HEADLESS: 'true', VENTUS_ORPHAN_GRACE_MS: '2000' };

function faultStack(options: { minReady: number; maxTotal: number }) {
  const state = {} as { ctx: TestContext; stack: ProcessStack; api: ApiClient; driver: LocalDriver };
  beforeAll(async () => {
    state.ctx = await TestContext.create({ ...options, env: ENV });
    state.stack = await ProcessStack.start(state.ctx, ENV);
    state.api = new ApiClient(state.stack.brokerUrl, (await state.ctx.seedKey()).apiKey);
    state.driver = testLocalDriver(path.join(state.ctx.dataDir, 'pods'));
  });
  afterAll(async () => {
    await state.stack?.close();
    await state.driver?.close();
    await state.ctx?.close();
  });
  return state;
}

const alivePodIds = async (driver: LocalDriver) =>
  (await driver.listPods()).filter((p) => p.alive).map((p) => p.id);

describe('SIGKILL of the workers mid-provision', () => {
  const s = faultStack({ minReady: 0, maxTotal: 6 });

  it('every session still reaches RUNNING on its own pod, and no pod is orphaned', async () => {
    const ids = await Promise.all(
      Array.from({ length: 4 }, async () => (await s.api.createSession({ timeout_seconds: 300 })).body.id),
    );
    await eventually(
      'a session PROVISIONING',
      async () => {
        const { rows } = await s.ctx.db.query(`SELECT 1 FROM sessions WHERE status = 'PROVISIONING'`);
        return rows.length > 0;
      },
      // The workers process may still be starting on a busy machine (ready() waits for broker and proxy).
      { everyMs: 5, timeoutMs: 90_000 },
    );
    await s.stack.kill('workers');
    s.stack.start('workers');

    for (const id of ids) {
      await s.api.waitFor(id, ['RUNNING'], 90_000).catch((err: Error) => {
        throw new Error(`${err.message}\nworkers: ${s.stack.output.get('workers') ?? ''}`);
      });
    }
    const { rows } = await s.ctx.db.query<{ pod_id: string }>(
      `SELECT pod_id FROM sessions WHERE id = ANY($1)`,
      [ids],
    );
    const podIds = rows.map((r) => r.pod_id);
    expect(new Set(podIds).size).toBe(4);
    // Pods the killed worker started and never recorded are reaped after the grace period.
    await eventually(
      'only the 4 held pods alive',
      async () => {
        const alive = await alivePodIds(s.driver);
        return alive.length === 4 && podIds.every((id) => alive.includes(id));
      },
      { timeoutMs: 60_000 },
    );

    for (const id of ids) expect((await s.api.release(id)).status).toBe(200);
    await eventually('every pod deleted', async () => (await alivePodIds(s.driver)).length === 0);
  }, 180_000);
});

describe('SIGKILL of the pool controller mid-reconcile', () => {
  const s = faultStack({ minReady: 0, maxTotal: 5 });

  it('the next controller fills the pool to min_ready and reaps the pods the dead one was starting', async () => {
    const starting = `${s.ctx.name}:pool:${POOL}:starting`;
    const redis = (await import('ioredis')).Redis;
    const client = new redis(s.ctx.redisUrl);
    try {
      // Raised now, so the kill lands while the controller is starting pods.
      const operator = new ApiClient(s.stack.brokerUrl, (await s.ctx.seedKey(['operator'])).apiKey);
      expect((await operator.request('PATCH', `/v1/pools/${POOL}`, { body: { min_ready: 3 } })).status).toBe(
        200,
      );
      await eventually('pods starting', async () => (await client.scard(starting)) > 0, { everyMs: 2 });
      await s.stack.kill('pool-controller');
      s.stack.start('pool-controller');
      await eventually(
        '3 warm pods and nothing else',
        async () => {
          const warm = await client.lrange(`${s.ctx.name}:pool:${POOL}:warm`, 0, -1);
          const alive = await alivePodIds(s.driver);
          return warm.length === 3 && alive.length === 3 && warm.every((id) => alive.includes(id));
        },
        { timeoutMs: 60_000 },
      );
    } finally {
      client.disconnect();
    }
    // And the pool still serves: a session claims a warm pod.
    const created = await s.api.createSession();
    await s.api.waitFor(created.body.id, ['RUNNING'], 30_000);
  }, 120_000);
});

describe('SIGKILL of the proxy mid-connection', () => {
  const s = faultStack({ minReady: 2, maxTotal: 4 });

  it('clients see their socket close; keep-alive sessions take a reconnect, the others are released', async () => {
    const keep = await s.api.waitFor((await s.api.createSession({ keep_alive_seconds: 120 })).body.id, [
      'RUNNING',
    ]);
    const once = await s.api.waitFor((await s.api.createSession()).body.id, ['RUNNING']);
    const clients = [await RawCdp.connect(keep.connect_url), await RawCdp.connect(once.connect_url)];
    for (const c of clients) expect(await c.send('Browser.getVersion')).toHaveProperty('product');
    const closed = clients.map((c) => new Promise((resolve) => c.ws.once('close', resolve)));

    await s.stack.kill('proxy');
    await Promise.all(closed); // no hang: the sockets close with the process
    s.stack.start('proxy');
    await s.stack.ready();

    // The keep-alive session is still RUNNING and takes a new client through the new proxy.
    const again = await RawCdp.connect(keep.connect_url);
    expect(await again.send('Browser.getVersion')).toHaveProperty('product');
    expect((await s.api.getSession(keep.id)).body.status).toBe('RUNNING');
    // The other one lost its last client with the proxy: released once the proxy's heartbeat lapses.
    const ended = await s.api.waitFor(once.id, ['COMPLETED', 'EXPIRED', 'ERRORED'], 60_000);
    expect(ended).toMatchObject({ status: 'COMPLETED', release_reason: 'cdp_disconnect' });
    // Its pod goes; the keep-alive session's pod stays.
    const heldPod = async (id: string) =>
      (await s.ctx.db.query<{ pod_id: string }>('SELECT pod_id FROM sessions WHERE id = $1', [id])).rows[0]!
        .pod_id;
    const [keepPod, oncePod] = [await heldPod(keep.id), await heldPod(once.id)];
    await eventually('the released session pod deleted', async () => {
      const alive = await alivePodIds(s.driver);
      return !alive.includes(oncePod) && alive.includes(keepPod);
    });
    again.ws.terminate();
  }, 120_000);
});
