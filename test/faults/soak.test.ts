/**
 * The CI soak: two minutes of load-tests/soak.ts (mixed lifecycles on the sim driver, a fault about
 * every 20 s: a process SIGKILLed and restarted, a Redis flush, a held pod killed or stalled). After
 * draining: no session lost or left unended, no 5xx but documented 503s, and memory and fds of every
 * process flat (last-quarter median <= first-quarter median x 1.5 + 32 MB / 64 fds; see sampler.ts).
 * VENTUS_SOAK_SEED replays a run; the long version is `node --import tsx load-tests/soak.ts`.
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../load-tests/soak/run-soak.ts';
import { soakMarkdown } from '../../load-tests/soak/report.ts';
import { adminDatabaseUrl, redisUrl } from '../support/env.ts';

describe('soak (2 minutes, with faults)', () => {
  it('loses nothing, ends everything, stays flat', async () => {
    const seed = Number(process.env.VENTUS_SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const report = await runSoak({
      durationMs: 120_000,
      rate: 2,
      faultEveryMs: 20_000,
      seed,
      maxTotal: 60,
      sampleEveryMs: 2_000,
      adminUrl: adminDatabaseUrl(),
      redisUrl: redisUrl(),
    });
    console.log(soakMarkdown(report));
    expect(report.faults.length, 'faults injected').toBeGreaterThanOrEqual(3);
    expect(
      Object.values(report.outcomes).reduce((a, b) => a + b, 0),
      'sessions',
    ).toBeGreaterThan(100);
    // Lost or duplicated sessions, illegal transitions, leaked pods or slots, hangs, 5xx other than 503.
    expect(report.violations, `seed ${seed}`).toEqual([]);
    expect(report.unsettledAfterDrain, `seed ${seed}`).toBe(0);
    expect(
      report.trends.filter((t) => !t.flat),
      `seed ${seed}`,
    ).toEqual([]);
  }, 300_000);
});
