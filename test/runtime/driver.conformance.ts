/**
 * The runtime-driver conformance suite: what every RuntimeDriver (local, kubernetes, sim) must do,
 * checked against real browsers (simulated ones for sim). A driver's test file calls
 * `describeDriverConformance` with a harness that knows how to look behind the driver (processes,
 * directories, the sim runtime server) and break a pod.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod, PodStatus, RuntimeDriver } from '../../core/runtime/driver.ts';
import { RawCdp, connectToPod } from './raw-cdp.client.ts';

export interface DriverHarness {
  driver: RuntimeDriver;
  headless: boolean;
  /** A second driver on the same state: another process, or this one after a restart. */
  reopen(): RuntimeDriver;
  /** What is left of a pod behind the driver's back (processes, directories); [] once fully gone. */
  leftovers(podId: string): Promise<string[]>;
  /** Kills the pod's browser from outside, as a crash or the OOM killer would. */
  killBrowser(pod: Pod): Promise<void>;
  /**
   * Has the pod's browser send a `size`-character string back over `client`. Default: what a real
   * browser does (a page evaluates it); a simulated browser that runs no JavaScript brings its own.
   */
  largeReply?(client: RawCdp, size: number): Promise<string>;
  /** Deletes whatever the suite left behind. */
  cleanup(): Promise<void>;
}

let counter = 0;
/** Unique, path-safe pod ids, so suites can share a machine (and a state dir) without clashing. */
export function podId(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** Polls `probe` until it returns true or `timeoutMs` passes; returns the last answer. */
export async function eventually(
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/** A real browser's way to send a big message: a new page evaluates a `size`-character string. */
async function evaluateLargeString(c: RawCdp, size: number): Promise<string> {
  const { targetId } = await c.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await c.send<{ sessionId: string }>('Target.attachToTarget', {
    targetId,
    flatten: true,
  });
  const evaluated = await c.send<{ result: { value: string } }>(
    'Runtime.evaluate',
    { expression: `'0123456789abcdef'.repeat(${size / 16})`, returnByValue: true },
    sessionId,
  );
  return evaluated.result.value;
}

export function describeDriverConformance(name: string, makeHarness: () => Promise<DriverHarness>): void {
  describe(`RuntimeDriver conformance: ${name}`, { timeout: 60_000 }, () => {
    let h: DriverHarness;
    const spec = (prefix: string) => ({ id: podId(prefix), pool: 'conformance', headless: h.headless });

    beforeAll(async () => {
      h = await makeHarness();
    }, 60_000);

    afterAll(async () => {
      await h?.cleanup();
    }, 60_000);

    it('creates a pod whose CDP endpoint answers, then deletes it without a trace', async () => {
      const pod = await h.driver.createPod(spec('life'));
      expect(pod.cdpUrl).toMatch(/^ws(s|\+unix)?:\/\//);
      expect(pod.controlUrl).toMatch(/^http(s|\+unix)?:\/\//);
      // "Eventually": the probe has a 1 s budget, which a fresh browser on an overloaded 2-core CI
      // machine can miss once; createPod itself already waited for CDP to answer.
      expect(await eventually(() => h.driver.isHealthy(pod), 5_000)).toBe(true);
      expect(await h.driver.getPod(pod.id)).toMatchObject({ id: pod.id, pool: 'conformance', alive: true });
      expect((await h.driver.listPods()).map((p) => p.id)).toContain(pod.id);
      expect(await h.leftovers(pod.id)).not.toEqual([]); // the probe does see a live pod

      const cdp = await connectToPod(pod);
      const version = await cdp.send<{ product: string; protocolVersion: string }>('Browser.getVersion');
      expect(version.product).toMatch(/Chrom/);
      cdp.close();

      await h.driver.deletePod(pod.id);
      expect(await h.driver.getPod(pod.id)).toBeUndefined();
      expect((await h.driver.listPods()).map((p) => p.id)).not.toContain(pod.id);
      expect(await h.leftovers(pod.id)).toEqual([]);
      await h.driver.deletePod(pod.id); // idempotent
    });

    it('lets a second driver on the same state list, probe and delete the pod (restart)', async () => {
      const pod = await h.driver.createPod(spec('restart'));
      const other = h.reopen();
      try {
        const seen = (await other.listPods()).find((p) => p.id === pod.id);
        expect(seen).toMatchObject({ id: pod.id, pool: 'conformance', alive: true, cdpUrl: pod.cdpUrl });
        expect(seen!.createdAt.getTime()).toBe(pod.createdAt.getTime());
        expect(await eventually(() => other.isHealthy(seen!), 5_000)).toBe(true);
        await other.deletePod(pod.id);
        expect(await h.driver.getPod(pod.id)).toBeUndefined();
        expect(await h.leftovers(pod.id)).toEqual([]);
      } finally {
        await other.close();
      }
    });

    it('carries concurrent clients and multi-megabyte messages', async () => {
      const pod = await h.driver.createPod(spec('relay'));
      try {
        const clients = await Promise.all([1, 2, 3].map(() => connectToPod(pod)));
        const versions = await Promise.all(
          clients.map((c) => c.send<{ product: string }>('Browser.getVersion')),
        );
        expect(new Set(versions.map((v) => v.product)).size).toBe(1);

        // A 16 MiB string back from the browser: as big as a full-page screenshot, and split by Chromium
        // into many TCP segments, so any re-framing or size limit in between would show.
        const c = clients[0]!;
        const size = 16 * 1024 * 1024;
        const value = h.largeReply ? await h.largeReply(c, size) : await evaluateLargeString(c, size);
        expect(value.length).toBe(size);
        expect(value.slice(-16)).toBe('0123456789abcdef');
        // The other clients were not disturbed.
        await Promise.all(clients.slice(1).map((other) => other.send('Browser.getVersion')));
        for (const client of clients) client.close();
      } finally {
        await h.driver.deletePod(pod.id);
      }
    });

    it('reports a pod whose browser died while warm: unhealthy, then not alive; delete still cleans up', async () => {
      const pod = await h.driver.createPod(spec('crash'));
      await h.killBrowser(pod);
      expect(await eventually(async () => !(await h.driver.isHealthy(pod)), 3_000)).toBe(true);
      let status: PodStatus | undefined;
      const dead = await eventually(async () => {
        status = await h.driver.getPod(pod.id);
        return status?.alive === false;
      }, 5_000);
      expect(dead, `pod still alive: ${JSON.stringify(status)}`).toBe(true);
      expect((await h.driver.listPods()).find((p) => p.id === pod.id)?.alive).toBe(false);
      await h.driver.deletePod(pod.id);
      expect(await h.driver.getPod(pod.id)).toBeUndefined();
      expect(await h.leftovers(pod.id)).toEqual([]);
    });

    it("closes a connected client's socket when the browser dies", async () => {
      const pod = await h.driver.createPod(spec('cut'));
      try {
        const client = await connectToPod(pod);
        await client.send('Browser.getVersion');
        const closed = once(client.ws, 'close');
        await h.killBrowser(pod);
        const outcome = await Promise.race([closed.then(() => 'closed'), sleep(15_000, 'still open')]);
        expect(outcome).toBe('closed');
      } finally {
        await h.driver.deletePod(pod.id);
      }
      expect(await h.leftovers(pod.id)).toEqual([]);
    });

    it('rejects an aborted creation and leaves nothing behind', async () => {
      const s = spec('abort');
      const controller = new AbortController();
      const creating = h.driver.createPod(s, controller.signal);
      setTimeout(() => controller.abort(), 100);
      await expect(creating).rejects.toThrow();
      expect(await h.driver.getPod(s.id)).toBeUndefined();
      expect(await eventually(async () => (await h.leftovers(s.id)).length === 0, 3_000)).toBe(true);
    });

    it('resolves when deleting a pod that does not exist', async () => {
      await expect(h.driver.deletePod(podId('missing'))).resolves.toBeUndefined();
      expect(await h.driver.getPod(podId('missing'))).toBeUndefined();
    });
  });
}
