/**
 * The browser itself fails, with real Chromium: its process is SIGKILLed inside held and warm pods
 * (the pod agent lives on) during a stream of lifecycles, and a held pod's Chromium is SIGSTOPped
 * (a wedged browser: alive, answering nothing). Sessions on a dead or wedged browser end ERRORED
 * (runtime_failure) and their CDP clients see the socket close: nobody hangs, nothing leaks.
 */
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultHarness, POOL } from '../support/fault-harness.ts';
import { eventually } from '../support/eventually.ts';
import { browserPid } from '../runtime/local.harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The Chromium browser process of a pod (not the agent, not renderers). */
const chromiumPid = (h: FaultHarness, podId: string): number | undefined =>
  browserPid(path.join(h.ctx.dataDir, 'pods', podId));

async function heldPodOf(h: FaultHarness, sessionId: string): Promise<string> {
  const { rows } = await h.ctx.db.query<{ pod_id: string }>('SELECT pod_id FROM sessions WHERE id = $1', [
    sessionId,
  ]);
  return rows[0]!.pod_id;
}

describe('Chromium fails inside pods', () => {
  let h: FaultHarness;
  const stopped: number[] = [];
  beforeAll(async () => {
    h = await FaultHarness.start({ driver: 'local', minReady: 2, maxTotal: 5 });
  });
  afterAll(async () => {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    await h?.close();
  });

  it('Chromium SIGKILLed in held and warm pods mid-stream: held sessions ERRORED, warm pods replaced', async () => {
    const traffic = await h.traffic({ patienceMs: 60_000 });
    // A session that stays up through the fault, with a client attached.
    const victim = (await traffic.create({ keep_alive_seconds: 120 }))!;
    const session = await traffic.waitRunning(victim);
    const ws = new WebSocket(String(session!.connect_url));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));

    const kinds = ['release', 'cdp'] as const;
    let i = 0;
    const done = traffic.run({ durationMs: 14_000, rate: 1, maxInFlight: 3, pick: () => kinds[i++ % 2]! });
    await sleep(4_000);
    // A warm pod and its browser found in one look: the traffic claims warm pods (and its releases
    // delete them) all along, so a pod listed warm a moment ago may be gone.
    const [warm, warmPid] = await eventually('a warm pod with its browser', async () => {
      for (const id of await h.deps.redis.lrange(`${h.ctx.name}:pool:${POOL}:warm`, 0, -1)) {
        const pid = chromiumPid(h, id);
        if (pid !== undefined) return [id, pid] as const;
      }
      return undefined;
    });
    const victimPod = await heldPodOf(h, victim);
    const pids = [chromiumPid(h, victimPod), warmPid];
    expect(
      pids.every((p) => p !== undefined),
      'Chromium found in both pods',
    ).toBe(true);
    for (const pid of pids) process.kill(pid!, 'SIGKILL');
    console.log(`[fault] Chromium SIGKILLed in held pod ${victimPod} and warm pod ${warm}`);

    const ended = await traffic.waitRunning(victim).then(() =>
      eventually('the victim ended', async () => {
        const s = (await traffic.call('GET', `/v1/sessions/${victim}`))?.body;
        return s && s.status !== 'RUNNING' && s;
      }),
    );
    expect(ended).toMatchObject({ status: 'ERRORED', release_reason: 'runtime_failure' });
    await closed; // its client's socket closed, no hang
    await done;
    await h.releaseAll(traffic);
    await h.assertInvariants(traffic, 'Chromium SIGKILLed in held and warm pods');
    const warmNow = await h.deps.redis.lrange(`${h.ctx.name}:pool:${POOL}:warm`, 0, -1);
    expect(warmNow).not.toContain(warm);
  }, 150_000);

  it('a SIGSTOPped Chromium in a warm pod (wedged while idle): the pool replaces the pod', async () => {
    const warmList = () => h.deps.redis.lrange(`${h.ctx.name}:pool:${POOL}:warm`, 0, -1);
    const warm = await eventually('a warm pod', async () => (await warmList())[0]);
    const pid = chromiumPid(h, warm)!;
    process.kill(pid, 'SIGSTOP');
    stopped.push(pid);
    const started = Date.now();
    // Its process runs, so only probes can tell: three failed ones, a probe interval apart.
    await eventually('the wedged pod off the warm list', async () => !(await warmList()).includes(warm), {
      timeoutMs: 60_000,
      everyMs: 250,
    });
    console.log(`[fault] warm Chromium SIGSTOPped: pod replaced after ${Date.now() - started} ms`);
    await eventually('the wedged pod deleted', async () => (await h.driver.getPod(warm)) === undefined, {
      timeoutMs: 30_000,
    });
  }, 120_000);

  it('a SIGSTOPped Chromium (wedged browser): the session ends ERRORED and the client socket closes', async () => {
    const traffic = await h.traffic({ patienceMs: 60_000 });
    const id = (await traffic.create({ keep_alive_seconds: 120 }))!;
    const session = await traffic.waitRunning(id);
    const ws = new WebSocket(String(session!.connect_url));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const pid = chromiumPid(h, await heldPodOf(h, id))!;
    process.kill(pid, 'SIGSTOP');
    stopped.push(pid);
    const started = Date.now();

    // The client asks and gets no answer: the service must close the socket within its deadline.
    const outcome = await new Promise<string>((resolve) => {
      ws.once('message', () => resolve('answered'));
      ws.once('close', () => resolve('closed'));
      setTimeout(() => resolve('hang'), 45_000);
      ws.send(JSON.stringify({ id: 1, method: 'Browser.getVersion' }));
    });
    console.log(`[fault] Chromium SIGSTOPped: client saw '${outcome}' after ${Date.now() - started} ms`);
    expect(outcome).toBe('closed');
    const ended = (await traffic.call('GET', `/v1/sessions/${id}`))!.body;
    expect(ended).toMatchObject({ status: 'ERRORED', release_reason: 'runtime_failure' });
    ws.terminate();
    await h.assertInvariants(traffic, 'Chromium SIGSTOPped in a held pod');
  }, 120_000);
});
