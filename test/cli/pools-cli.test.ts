import { describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { getPool } from '../../core/db/pools.repository.ts';
import { listAuditForTarget } from '../../core/db/audit.repository.ts';
import { document, OBSERVED, POOL, usePoolsCli, type PoolJson } from '../support/pools-cli.harness.ts';

describe('ventus pools list and set', () => {
  const h = usePoolsCli();

  it('list: settings from Postgres with live figures from Redis, as JSON and as a table', async () => {
    // Warm pods as the controller lists them (the test needs the list, not real pods).
    await h.redis.rpush(h.keys.poolWarm(POOL), 'pod-a', 'pod-b');
    await h.pools.warmPods.markStarting(POOL, 'pod-c');
    await h.pools.poolSlots.publishLimits(POOL, { maxTotal: 5, minReady: 0, version: Date.now() });
    await h.pools.poolSlots.syncWorkspace('ws-1', []);
    expect(await h.pools.poolSlots.admit(POOL, 'session-1', { workspaceId: 'ws-1', quota: 5 })).toBe(
      'admitted',
    );
    for (const ms of [400, 500, 650]) await h.pools.warmPods.recordWarmup(POOL, ms);

    const listed = document<{ data: PoolJson[]; live: boolean }>(await h.ventus('list', '--json'));
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

    const text = await h.ventus('list');
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
    const subscriber = new Redis(h.ctx.redisUrl);
    const published: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => published.push(message));
    await subscriber.subscribe(h.keys.poolChangedChannel());
    try {
      const changed = document<Record<string, unknown>>(
        await h.ventus('set', POOL, '--min-ready', '2', '--max-total', '8', '--max-starting', '3', '--json'),
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

    const listed = document<{ data: PoolJson[] }>(await h.ventus('list', '--json'));
    expect(listed.data.find((p) => p.name === POOL)).toMatchObject({
      min_ready: 2,
      max_total: 8,
      max_starting: 3,
    });

    const text = await h.ventus('set', POOL, '--max-starting', 'none');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`pool ${POOL} updated`);
    expect(text.stdout).toMatch(/max_starting\s+3\s+->\s+default/);
    expect((await getPool(h.ctx.db, POOL))?.maxStarting).toBeNull();

    const audit = await listAuditForTarget(h.ctx.db, 'pool', POOL);
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

  it('set: refuses an invalid change and an unknown pool with exit 2, changing nothing', async () => {
    const before = await getPool(h.ctx.db, POOL);
    const auditBefore = (await listAuditForTarget(h.ctx.db, 'pool', POOL)).length;
    await h.expectRefusals([
      [['set', POOL, '--min-ready', '9'], 'refused: min_ready (9) cannot exceed max_total (8)'],
      [['set', POOL, '--max-total', '1'], 'refused: min_ready (2) cannot exceed max_total (1)'],
      [['set', 'nope', '--min-ready', '1'], `no pool named nope (pools: ${OBSERVED}, ${POOL})`],
    ]);
    expect(await getPool(h.ctx.db, POOL)).toEqual(before);
    expect(await listAuditForTarget(h.ctx.db, 'pool', POOL)).toHaveLength(auditBefore);
  });

  it('set: refuses bad flags with exit 2, changing nothing', async () => {
    const before = await getPool(h.ctx.db, POOL);
    await h.expectRefusals([
      [['set', POOL, '--max-total', 'many'], '--max-total="many": expected a whole number from 0 to 100000'],
      [['set', POOL, '--min-ready=-1'], '--min-ready="-1": expected a whole number from 0 to 10000'],
      [['set', POOL, '--max-starting', '0'], '--max-starting="0": expected a whole number from 1 to 1000'],
      [['set', POOL], 'nothing to change'],
      [['set', '--min-ready', '1'], 'usage: ventus pools set <name>'],
      [['set', POOL, '--min-ready', '1', '--window', '1h'], '--window: not an option of ventus pools set'],
      [['set', POOL, '--frobnicate'], "Unknown option '--frobnicate'"],
      [['resize', POOL], 'unknown command: ventus pools resize'],
    ]);
    expect(await getPool(h.ctx.db, POOL)).toEqual(before);
  });
});
