/**
 * A pool controller restart on the kubernetes driver (the in-repo API double, real headless Chromium
 * behind its kubelet) with a full pool: 10 warm pods and 5 held by RUNNING sessions. The new
 * controller adopts what it finds: over several passes it creates no Pod and deletes none (counted
 * from the double's request log), and the warm list and the held sessions are exactly as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { startExtraController, type ExtraController } from '../support/extra-controller.ts';
import { ApiClient } from '../support/api-client.ts';
import { poolSnapshot } from '../support/pool-snapshot.ts';
import { kubernetesStackEnv, type KubernetesStackEnv } from '../support/k8s-api-double/stack-env.ts';
import type { Stack } from '../../stack/stack.ts';

const POOL = 'us-east1-chromium';
const WARM = 10;
const HELD = 5;
const QUIET_MS = 3_000;

describe('pool controller restart on the kubernetes driver', { timeout: 300_000 }, () => {
  let k8s: KubernetesStackEnv;
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;
  let second: ExtraController | undefined;

  beforeAll(async () => {
    k8s = await kubernetesStackEnv();
    ctx = await TestContext.create({ minReady: WARM, maxTotal: WARM + HELD, env: k8s.env });
    stack = await ctx.startStack();
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
  }, 120_000);

  afterAll(async () => {
    await second?.close();
    await stack?.close();
    await k8s?.close();
    await ctx?.close();
  }, 120_000);

  /** Pods in the double: all, and those Running and not terminating. */
  const pods = () => {
    const all = k8s.double.store.list('pods', k8s.namespace, []);
    const live = all.filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
    return { all: all.map((p) => p.metadata.name).sort(), live: live.length };
  };

  const heldSessions = async () =>
    (
      await stack.services.db.query<{ id: string; pod_id: string; status: string }>(
        "SELECT id, pod_id, status FROM sessions WHERE status = 'RUNNING' ORDER BY id",
      )
    ).rows;

  it(`creates and deletes no Pod, and keeps ${WARM} warm and ${HELD} held, across a restart`, async () => {
    const redis = stack.services.redis;
    const keys = stack.services.redisKeys;

    // 5 sessions RUNNING (each claims a pod), then the controller refills to 10 warm: 15 pods.
    const ids: string[] = [];
    for (let i = 0; i < HELD; i++) {
      const created = await api.createSession();
      expect(created.status).toBe(202);
      ids.push(created.body.id);
    }
    for (const id of ids) await api.waitFor(id, ['RUNNING'], 120_000);
    await expect
      .poll(() => poolSnapshot(redis, keys, POOL), { timeout: 180_000, interval: 500 })
      .toEqual({
        warm: WARM,
        held: HELD,
      });
    await expect.poll(() => pods(), { timeout: 60_000, interval: 250 }).toMatchObject({ live: WARM + HELD });
    // Settled: no Pod write for a second (a pod deleted after a failed start would still be going).
    await expect
      .poll(
        async () => {
          const before = k8s.podWrites();
          await new Promise((r) => setTimeout(r, 1_000));
          return (
            JSON.stringify(k8s.podWrites()) === JSON.stringify(before) && pods().all.length === WARM + HELD
          );
        },
        { timeout: 30_000, interval: 0 },
      )
      .toBe(true);

    const warmBefore = [...(await stack.services.warmPods.ids(POOL))].sort();
    const heldBefore = await heldSessions();
    const podsBefore = pods().all;
    expect(warmBefore).toHaveLength(WARM);
    expect(heldBefore.map((s) => s.id).sort()).toEqual([...ids].sort());

    // The restart: the old controller stops (its leader lease released), a new one starts with
    // services and a driver of its own, as a new pool-controller process would.
    await stack.controller.close();
    await stack.controller.reconciler.settle();
    const writesBefore = k8s.podWrites();
    const listsBefore = k8s.double.counts.get('GET pods') ?? 0;
    second = await startExtraController(ctx);
    const { controller, services } = second;
    await new Promise((r) => setTimeout(r, QUIET_MS));
    await controller.reconcileNow();
    await controller.reconciler.settle();

    expect(controller.isLeader()).toBe(true);
    // It did look: several passes, each listing the pods through the API.
    const passes = (k8s.double.counts.get('GET pods') ?? 0) - listsBefore;
    expect(passes).toBeGreaterThanOrEqual(3);
    expect(k8s.podWrites()).toEqual(writesBefore);
    expect([...(await services.warmPods.ids(POOL))].sort()).toEqual(warmBefore);
    expect(await poolSnapshot(redis, keys, POOL)).toEqual({ warm: WARM, held: HELD });
    expect(await heldSessions()).toEqual(heldBefore);
    expect(pods()).toEqual({ all: podsBefore, live: WARM + HELD });
    console.log(
      `restart with ${WARM} warm + ${HELD} held: ${passes} pod lists by the new controller in ${QUIET_MS / 1000} s, ` +
        `0 pods created, 0 deleted (${writesBefore.created} created, ${writesBefore.deleted} deleted before)`,
    );
  });
});
