import { describe, expect, it } from 'vitest';
import { advise, predict } from '../../core/capacity/erlang-b.ts';
import { document, OBSERVED, POOL, usePoolsCli } from '../support/pools-cli.harness.ts';

describe('ventus pools advise', () => {
  const h = usePoolsCli();

  it('advise --json from flags: the numbers of the Erlang-B module', async () => {
    const traffic = { arrivalRatePerSecond: 2, meanSessionSeconds: 120, startSeconds: 0.4 };
    const defaults = document<Record<string, unknown>>(
      await h.ventus(
        'advise',
        '--arrival-rate',
        '2',
        '--mean-session',
        '120',
        '--start-seconds',
        '0.4',
        '--json',
      ),
    );
    const expected = advise(traffic);
    expect(defaults).toEqual({
      inputs: {
        arrival_rate_per_second: 2,
        mean_session_seconds: 120,
        start_seconds: 0.4,
        target_503_rate: 0.01,
        target_warm_hit_rate: 0.95,
      },
      input_sources: { arrival_rate: 'flag', mean_session: 'flag', start_seconds: 'flag' },
      offered_load_erlangs: expected.offeredLoadErlangs,
      warm_offered_load_erlangs: expected.warmOfferedLoadErlangs,
      recommended: { max_total: expected.maxTotal, min_ready: expected.minReady },
      predicted: { rate_503: expected.predicted.rate503, warm_hit_rate: expected.predicted.warmHitRate },
      notes: [],
      pool: null,
    });
    expect(defaults.recommended).toEqual({ max_total: 263, min_ready: 3 });

    const strict = document<{ recommended: unknown; predicted: unknown }>(
      await h.ventus(
        'advise',
        '--arrival-rate=2',
        '--mean-session=120',
        '--start-seconds=0.4',
        '--target-503=0.001',
        '--target-warm-hit=0.99',
        '--json',
      ),
    );
    const strictExpected = advise({ ...traffic, target503Rate: 0.001, targetWarmHitRate: 0.99 });
    expect(strict.recommended).toEqual({
      max_total: strictExpected.maxTotal,
      min_ready: strictExpected.minReady,
    });
    expect(strict.predicted).toEqual({
      rate_503: strictExpected.predicted.rate503,
      warm_hit_rate: strictExpected.predicted.warmHitRate,
    });

    const text = await h.ventus(
      'advise',
      '--arrival-rate',
      '2',
      '--mean-session',
      '120',
      '--start-seconds',
      '0.4',
    );
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/max_total\s+263/);
    expect(text.stdout).toMatch(/min_ready\s+3/);
    expect(text.stdout).toMatch(/503 rate\s+0\.90%/);
    expect(text.stdout).toMatch(/warm hits\s+96\.13%/);
  });

  it('advise refuses missing or invalid traffic with exit 2', async () => {
    const refusals: [args: string[], stderr: string][] = [
      [['advise', '--arrival-rate', '2', '--mean-session', '120'], 'missing --start-seconds'],
      [
        ['advise', '--arrival-rate', 'lots', '--mean-session', '120', '--start-seconds', '1'],
        '--arrival-rate="lots": expected a number',
      ],
      [
        ['advise', '--arrival-rate=-2', '--mean-session', '120', '--start-seconds', '1'],
        'cannot advise: arrival rate must be a finite number >= 0',
      ],
      [
        ['advise', '--arrival-rate', '2', '--mean-session', '0', '--start-seconds', '1'],
        'cannot advise: mean session length must be a finite number > 0',
      ],
      [
        ['advise', '--arrival-rate', '2', '--mean-session', '9', '--start-seconds', '1', '--target-503', '5'],
        'cannot advise: target 503 rate must be a fraction strictly between 0 and 1',
      ],
      [['advise', '--pool', 'nope'], 'no pool named nope'],
      [['advise', '--pool', POOL, '--window', 'forever'], '--window="forever": expected a duration'],
      [['advise', '--arrival-rate', '2', '--window', '1h'], '--window needs --pool <name>'],
      // Nothing of this pool ever ended: its mean session length is unknown.
      [['advise', '--pool', POOL], `no session of pool ${POOL} ended in the last 1h: pass --mean-session S`],
    ];
    await h.expectRefusals(refusals);
  });

  it('advise --pool: observed arrivals, session length and warm-up feed the same model', async () => {
    const { workspaceId } = await h.ctx.seedKey();
    let n = 0;
    /** A session of the observed pool created `agoSeconds` ago, ended `lengthSeconds` later (or live). */
    const session = (agoSeconds: number, lengthSeconds: number | null) =>
      h.ctx.db.query(
        `INSERT INTO sessions (id, workspace_id, pool, status, region, runtime_kind, timeout_seconds,
                               keep_alive_seconds, created_at, expires_at, released_at, release_reason)
         VALUES ($1, $2, $3, $4, 'eu-west1', 'chromium', 300, 0, now() - make_interval(secs => $5::int),
                 now() + interval '1 hour',
                 now() - make_interval(secs => $5::int) + make_interval(secs => $6::int), $7)`,
        [
          `obs-${++n}`,
          workspaceId,
          OBSERVED,
          lengthSeconds === null ? 'RUNNING' : 'COMPLETED',
          agoSeconds,
          lengthSeconds,
          lengthSeconds === null ? null : 'client_release',
        ],
      );
    // Six 120 s sessions in the last hour, two still running since 10 minutes ago, and one that
    // ended before the window (not counted anywhere).
    for (let i = 0; i < 6; i++) await session(3000 - i * 300, 120);
    await session(600, null);
    await session(600, null);
    await session(7200, 600);
    for (const ms of [300, 400, 900]) await h.pools.warmPods.recordWarmup(OBSERVED, ms);

    const out = document<{
      inputs: Record<string, number>;
      input_sources: Record<string, string>;
      recommended: unknown;
      predicted: unknown;
      pool: {
        name: string;
        observed: Record<string, number | string | null>;
        current: { min_ready: number; max_total: number; predicted: unknown };
      };
    }>(await h.ventus('advise', '--pool', OBSERVED, '--window', '1h', '--json'));
    const traffic = { arrivalRatePerSecond: 8 / 3600, meanSessionSeconds: 120, startSeconds: 0.4 };
    expect(out.inputs).toMatchObject({
      arrival_rate_per_second: traffic.arrivalRatePerSecond,
      mean_session_seconds: 120,
      start_seconds: 0.4,
    });
    expect(out.input_sources).toEqual({
      arrival_rate: 'observed',
      mean_session: 'observed',
      start_seconds: 'observed',
    });
    expect(out.pool.observed).toMatchObject({
      window_seconds: 3600,
      arrivals: 8,
      ended_sessions: 6,
      mean_session_seconds: 120,
      warmup_ms: 400,
    });
    // 6 x 120 slot-seconds, plus two live sessions for 600 s (and the seconds this test took).
    const carried = out.pool.observed.carried_load_erlangs as number;
    expect(carried).toBeGreaterThanOrEqual((6 * 120 + 2 * 600) / 3600);
    expect(carried).toBeLessThan((6 * 120 + 2 * 660) / 3600);
    const expected = advise(traffic);
    expect(out.recommended).toEqual({ max_total: expected.maxTotal, min_ready: expected.minReady });
    expect(out.predicted).toEqual({
      rate_503: expected.predicted.rate503,
      warm_hit_rate: expected.predicted.warmHitRate,
    });
    const current = predict(traffic, { maxTotal: 4, minReady: 1 });
    expect(out.pool.current).toEqual({
      min_ready: 1,
      max_total: 4,
      max_starting: null,
      predicted: { rate_503: current.rate503, warm_hit_rate: current.warmHitRate },
    });

    // A flag overrides its observation; the text report names the pool and what it observed.
    const text = await h.ventus('advise', '--pool', OBSERVED, '--start-seconds', '2');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`pool ${OBSERVED}, last 1h: 8 sessions created, 6 ended (mean 120 s)`);
    expect(text.stdout).toContain('x 2 s start =');
    expect(text.stdout).toMatch(/max_total\s+\d+\s+4\s/);
  });
});
