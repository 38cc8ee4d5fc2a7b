/**
 * SIGKILL of the broker mid-create, then SIGKILLs of every process at random moments (a seeded
 * schedule, printed; replay one with VENTUS_FAULT_SEED) during a stream of lifecycles on the sim
 * driver. Clients see answers or cut connections, retry with the same Idempotency-Key, and every
 * invariant of the fault suite holds afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultHarness } from '../support/fault-harness.ts';
import { eventually } from '../support/eventually.ts';
import type { ProcessName } from '../support/process-stack.ts';
import { mulberry32 } from '../../load-tests/soak/random.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PROCESSES: ProcessName[] = ['broker', 'proxy', 'workers', 'pool-controller'];

describe('SIGKILLs under a stream of lifecycles', () => {
  let h: FaultHarness;
  beforeAll(async () => {
    // Room for the slots a killed broker admitted but never committed (freed after 30 s): no 503s here.
    h = await FaultHarness.start({ minReady: 3, maxTotal: 30 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the broker killed mid-create: each key gets one session, every session runs, none lost', async () => {
    const traffic = await h.traffic({ patienceMs: 60_000 });
    const before = Date.now();
    const creates = Array.from({ length: 12 }, () => traffic.create());
    // Land the kill while creates are in flight: after the first row commits, before they all have.
    await eventually(
      'a create committed',
      async () => {
        const { rows } = await h.ctx.db.query('SELECT 1 FROM sessions WHERE workspace_id = $1', [
          h.deps.workspaceId,
        ]);
        return rows.length > 0;
      },
      { everyMs: 2 },
    );
    await h.stack.kill('broker');
    const { rows } = await h.ctx.db.query('SELECT 1 FROM sessions WHERE workspace_id = $1', [
      h.deps.workspaceId,
    ]);
    console.log(
      `[fault] broker SIGKILLed ${Date.now() - before} ms into 12 creates, ${rows.length} rows committed`,
    );
    h.stack.start('broker');
    const ids = await Promise.all(creates);
    console.log(
      `[fault] creates across a broker SIGKILL: ${JSON.stringify(Object.fromEntries(traffic.outcomes))}`,
    );
    expect(
      ids.every((id) => id !== undefined),
      'every create answered 202/200 after retries',
    ).toBe(true);
    expect(new Set(ids).size).toBe(12);
    expect(traffic.outcomes.get('POST /v1/sessions network') ?? 0, 'some creates were cut').toBeGreaterThan(
      0,
    );
    for (const id of ids) expect((await traffic.waitRunning(id!))?.status).toBe('RUNNING');
    await h.releaseAll(traffic);
    await h.assertInvariants(traffic, 'broker SIGKILL mid-create');
  }, 120_000);

  it('random SIGKILLs of every process during the stream (seeded schedule)', async () => {
    const seed = Number(process.env.VENTUS_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`[fault] random-kill seed ${seed} (VENTUS_FAULT_SEED=${seed} replays it)`);
    const rng = mulberry32(seed);
    const traffic = await h.traffic({ patienceMs: 60_000 });
    const kinds = ['release', 'cdp', 'keepalive'] as const;
    const done = traffic.run({
      durationMs: 24_000,
      rate: 5,
      maxInFlight: 12,
      pick: () => kinds[Math.floor(rng() * kinds.length)]!,
    });
    // Every process is killed once, in a random order, at random moments 2–20 s in.
    const order = [...PROCESSES].sort(() => rng() - 0.5);
    const schedule = order.map((name) => ({ name, at: 2_000 + rng() * 18_000, down: rng() * 1_500 }));
    schedule.sort((a, b) => a.at - b.at);
    console.log(
      `[fault] schedule ${schedule.map((k) => `${k.name}@${Math.round(k.at)}ms+${Math.round(k.down)}`).join(' ')}`,
    );
    const started = Date.now();
    for (const k of schedule) {
      await sleep(Math.max(0, started + k.at - Date.now()));
      await h.stack.kill(k.name);
      await sleep(k.down);
      h.stack.start(k.name);
    }
    await done;
    await h.stack.ready();
    await h.releaseAll(traffic);
    await h.assertInvariants(traffic, `random SIGKILLs (seed ${seed})`);
    expect(traffic.answered.size).toBeGreaterThan(15);
  }, 180_000);
});
