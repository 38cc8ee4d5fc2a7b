import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { TestContext } from '../support/test-context.ts';
import { RedisKeys } from '../../core/redis/keys.ts';
import { PoolState } from '../../core/redis/pool-state.ts';
import { getPool, seedPool } from '../../core/db/pools.repository.ts';
import { listAuditForTarget } from '../../core/db/audit.repository.ts';
import { advise, predict } from '../../core/capacity/erlang-b.ts';

const run = promisify(execFile);
const VENTUS = fileURLToPath(new URL('../../bin/ventus.js', import.meta.url));
const POOL = 'us-east1-chromium';
/** A second pool whose traffic the advise test seeds. */
const OBSERVED = 'eu-west1-chromium';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

interface PoolJson {
  name: string;
  min_ready: number;
  max_total: number;
  max_starting: number | null;
  status: Record<string, number | null>;
}

/** The one JSON document a `--json` run prints. */
function document<T>(out: Ran): T {
  expect(out.code, out.stderr).toBe(0);
  expect(out.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(out.stdout) as T;
}

describe('ventus pools', () => {
  let ctx: TestContext;
  let env: NodeJS.ProcessEnv;
  let redis: Redis;
  let pools: PoolState;
  let keys: RedisKeys;

  async function ventus(...args: string[]): Promise<Ran> {
    try {
      const { stdout, stderr } = await run('node', [VENTUS, 'pools', ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 0, maxTotal: 5 });
    env = {
      ...process.env,
      DATABASE_URL: ctx.databaseUrl,
      REDIS_URL: ctx.redisUrl,
      VENTUS_REDIS_PREFIX: ctx.name,
      VENTUS_LOG_LEVEL: 'warn',
    };
    redis = new Redis(ctx.redisUrl);
    keys = new RedisKeys(ctx.name);
    pools = new PoolState(redis, keys);
    await seedPool(ctx.db, { region: 'eu-west1', runtimeKind: 'chromium', minReady: 1, maxTotal: 4 });
  });
  afterAll(async () => {
    redis?.disconnect();
    await ctx?.close();
  });

  it('list: settings from Postgres with live figures from Redis, as JSON and as a table', async () => {
    // Warm pods as the controller lists them (the test needs the list, not real pods).
    await redis.rpush(keys.poolWarm(POOL), 'pod-a', 'pod-b');
    await pools.markStarting(POOL, 'pod-c');
    await pools.publishLimits(POOL, { maxTotal: 5, minReady: 0 });
    expect(await pools.admit(POOL, 'session-1')).toBe('admitted');
    for (const ms of [400, 500, 650]) await pools.recordWarmup(POOL, ms);

    const listed = document<{ data: PoolJson[]; live: boolean }>(await ventus('list', '--json'));
    expect(listed.live).toBe(true);
    expect(listed.data.map((p) => p.name)).toEqual([OBSERVED, POOL]);
    expect(listed.data[1]).toMatchObject({
      name: POOL,
      region: 'us-east1',
      runtime_kind: 'chromium',
      min_ready: 0,
      max_total: 5,
      max_starting: null,
      status: { ready: 2, warming: 1, admitted: 1, queued: 0, held: 0, warmup_ms: 500 },
    });

    const text = await ventus('list');
    expect(text.code).toBe(0);
    const [header, ...rows] = text.stdout.trim().split('\n');
    expect(header!.split(/\s+/)).toEqual([
      'POOL',
      'MIN_READY',
      'MAX_TOTAL',
      'MAX_STARTING',
      'READY',
      'WARMING',
      'ADMITTED',
      'QUEUED',
      'HELD',
      'WARMUP',
    ]);
    expect(rows.find((r) => r.startsWith(POOL))!.split(/\s+/)).toEqual([
      POOL,
      '0',
      '5',
      'default',
      '2',
      '1',
      '1',
      '0',
      '0',
      '500',
      'ms',
    ]);
  });

  it('set: changes the pool live, audits it as the CLI, wakes the controller, and list shows it', async () => {
    const subscriber = new Redis(ctx.redisUrl);
    const published: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => published.push(message));
    await subscriber.subscribe(keys.poolChangedChannel());
    try {
      const changed = document<Record<string, unknown>>(
        await ventus('set', POOL, '--min-ready', '2', '--max-total', '8', '--max-starting', '3', '--json'),
      );
      expect(changed).toMatchObject({
        name: POOL,
        min_ready: 2,
        max_total: 8,
        max_starting: 3,
        previous: { min_ready: 0, max_total: 5, max_starting: null },
        controller_signalled: true,
      });
      await vi.waitFor(() => expect(published).toContain(POOL));
    } finally {
      subscriber.disconnect();
    }

    const listed = document<{ data: PoolJson[] }>(await ventus('list', '--json'));
    expect(listed.data.find((p) => p.name === POOL)).toMatchObject({
      min_ready: 2,
      max_total: 8,
      max_starting: 3,
    });

    const text = await ventus('set', POOL, '--max-starting', 'none');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`pool ${POOL} updated`);
    expect(text.stdout).toMatch(/max_starting\s+3\s+->\s+default/);
    expect((await getPool(ctx.db, POOL))?.maxStarting).toBeNull();

    const audit = await listAuditForTarget(ctx.db, 'pool', POOL);
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({
      workspaceId: null,
      class: 'admin',
      actor: 'cli',
      action: 'pool.updated',
      targetType: 'pool',
      targetId: POOL,
      detail: {
        min_ready: 2,
        max_total: 8,
        max_starting: 3,
        previous_min_ready: 0,
        previous_max_total: 5,
        previous_max_starting: null,
      },
    });
    expect(audit[1]!.detail).toMatchObject({ max_starting: null, previous_max_starting: 3 });
  });

  /** Runs each command, expecting exit 2, nothing on stdout and the message on stderr. */
  async function expectRefusals(refusals: [args: string[], stderr: string][]): Promise<void> {
    for (const [args, stderr] of refusals) {
      const out = await ventus(...args);
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stdout).toBe('');
      expect(out.stderr).toContain(stderr);
    }
  }

  it('set: refuses an invalid change and an unknown pool with exit 2, changing nothing', async () => {
    const before = await getPool(ctx.db, POOL);
    const auditBefore = (await listAuditForTarget(ctx.db, 'pool', POOL)).length;
    await expectRefusals([
      [['set', POOL, '--min-ready', '9'], 'refused: min_ready (9) cannot exceed max_total (8)'],
      [['set', POOL, '--max-total', '1'], 'refused: min_ready (2) cannot exceed max_total (1)'],
      [['set', 'nope', '--min-ready', '1'], `no pool named nope (pools: ${OBSERVED}, ${POOL})`],
    ]);
    expect(await getPool(ctx.db, POOL)).toEqual(before);
    expect(await listAuditForTarget(ctx.db, 'pool', POOL)).toHaveLength(auditBefore);
  });

  it('set: refuses bad flags with exit 2, changing nothing', async () => {
    const before = await getPool(ctx.db, POOL);
    await expectRefusals([
      [['set', POOL, '--max-total', 'many'], '--max-total="many": expected a whole number from 0 to 100000'],
      [['set', POOL, '--min-ready=-1'], '--min-ready="-1": expected a whole number from 0 to 10000'],
      [['set', POOL, '--max-starting', '0'], '--max-starting="0": expected a whole number from 1 to 1000'],
      [['set', POOL], 'nothing to change'],
      [['set', '--min-ready', '1'], 'usage: ventus pools set <name>'],
      [['set', POOL, '--min-ready', '1', '--window', '1h'], '--window: not an option of ventus pools set'],
      [['set', POOL, '--frobnicate'], "Unknown option '--frobnicate'"],
      [['resize', POOL], 'unknown command: ventus pools resize'],
    ]);
    expect(await getPool(ctx.db, POOL)).toEqual(before);
  });

  it('advise --json from flags: the numbers of the Erlang-B module', async () => {
    const traffic = { arrivalRatePerSecond: 2, meanSessionSeconds: 120, startSeconds: 0.4 };
    const defaults = document<Record<string, unknown>>(
      await ventus(
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
      await ventus(
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

    const text = await ventus(
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
    await expectRefusals(refusals);
  });

  it('advise --pool: observed arrivals, session length and warm-up feed the same model', async () => {
    const { workspaceId } = await ctx.seedKey();
    let n = 0;
    /** A session of the observed pool created `agoSeconds` ago, ended `lengthSeconds` later (or live). */
    const session = (agoSeconds: number, lengthSeconds: number | null) =>
      ctx.db.query(
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
    for (const ms of [300, 400, 900]) await pools.recordWarmup(OBSERVED, ms);

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
    }>(await ventus('advise', '--pool', OBSERVED, '--window', '1h', '--json'));
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
    const text = await ventus('advise', '--pool', OBSERVED, '--start-seconds', '2');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`pool ${OBSERVED}, last 1h: 8 sessions created, 6 ended (mean 120 s)`);
    expect(text.stdout).toContain('x 2 s start =');
    expect(text.stdout).toMatch(/max_total\s+\d+\s+4\s/);
  });
});
