import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { metricValue } from '../../load-tests/scenarios/fleet.ts';
import { plantTimeout, type TimersReport } from '../../load-tests/scenarios/timers.scenario.ts';
import type { ConcurrentReport } from '../../load-tests/scenarios/concurrent.scenario.ts';
import { TestContext } from '../support/test-context.ts';
import type { Stack } from '../../stack/stack.ts';

const run = promisify(execFile);
const VENTUS = fileURLToPath(new URL('../../bin/ventus.js', import.meta.url));

describe('timers and concurrent helpers', () => {
  it('plants latest-due first, within the API’s timeout range, the last one first-due after the end', () => {
    const plan = { firstDueSeconds: 60, horizonSeconds: 100, ratePerSecond: 10 };
    const timeouts = Array.from({ length: 10 }, (_, i) => plantTimeout(i, 10, plan));
    // Slot 9 (due last) goes first, 1 s of planting ahead of it; slot 0 goes last.
    expect(timeouts[0]).toBe(Math.round(1 + 60 + 90));
    expect(timeouts[9]).toBe(Math.round(0.1 + 60));
    expect(timeouts.every((t, i) => i === 0 || t < timeouts[i - 1]!)).toBe(true);
    expect(plantTimeout(0, 1, { firstDueSeconds: 1, horizonSeconds: 1, ratePerSecond: 1000 })).toBe(60);
    expect(plantTimeout(0, 1, { firstDueSeconds: 90_000, horizonSeconds: 1, ratePerSecond: 1 })).toBe(86_400);
  });

  it('reads one sample of a Prometheus text by name and labels', () => {
    const text = [
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      'process_resident_memory_bytes 123456789',
      'ventus_queue_jobs{queue="provision",state="delayed"} 3',
      'ventus_queue_jobs{queue="lifecycle",state="delayed"} 2001',
    ].join('\n');
    expect(metricValue(text, 'process_resident_memory_bytes')).toBe(123456789);
    expect(metricValue(text, 'ventus_queue_jobs', { queue: 'lifecycle', state: 'delayed' })).toBe(2001);
    expect(metricValue(text, 'nothing')).toBeNull();
  });
});

describe('ventus load --scenario timers|concurrent (sim driver)', () => {
  let ctx: TestContext;
  let stack: Stack;
  let out: string;

  beforeAll(async () => {
    ctx = await TestContext.create({
      minReady: 2,
      maxTotal: 40,
      env: { VENTUS_DRIVER: 'sim', VENTUS_RATE_LIMIT_PER_MINUTE: '1000000' },
    });
    stack = await ctx.startStack();
    out = await mkdtemp(path.join(os.tmpdir(), 'ventus-fleet-'));
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
    if (out) await rm(out, { recursive: true, force: true });
  });

  const load = async <R>(apiKey: string, args: string[]) => {
    const { stdout } = await run(
      'node',
      [
        ...[VENTUS, 'load', '--target', stack.url, '--api-key', apiKey, ...args],
        ...['--out', out, '--driver-label', 'sim', '--json'],
      ],
      { env: { ...process.env, VENTUS_LOG_LEVEL: 'warn' } },
    );
    const printed = JSON.parse(stdout) as { files: { json: string; markdown: string; svg: string } };
    return { files: printed.files, report: JSON.parse(await readFile(printed.files.json, 'utf8')) as R };
  };

  const live = async () =>
    (
      await ctx.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM sessions WHERE status IN ('QUEUED', 'PROVISIONING', 'RUNNING')`,
      )
    ).rows[0]!.n;

  it('timers: measures every expiry due in the window, creates before and while armed, and cleans up', async () => {
    // Operator scope: 30 planted + 64 creates in flight exceed max_total 40, so the run raises it.
    const { apiKey } = await ctx.seedKey(['operator']);
    const { report, files } = await load<TimersReport>(apiKey, [
      ...['--scenario', 'timers', '--pending', '30', '--rate', '5', '--duration', '2'],
      ...['--window', '5s', '--horizon', '20s', '--first-due', '60s'],
    ]);
    expect(report.plant).toMatchObject({ admitted: 30, refused: 0, errors: 0 });
    for (const phase of [report.baseline, report.armed]) {
      expect(phase.scheduled).toBe(10);
      expect(Object.values(phase.outcomes).reduce((a, b) => a + b, 0)).toBe(10);
      expect(phase.latency.n).toBe(phase.outcomes['202']);
      expect(phase.samples).toHaveLength(phase.latency.n);
    }
    const e = report.expiry;
    expect(e.due + e.stillPending).toBe(30);
    expect(e.due).toBeGreaterThan(0);
    expect(e.due).toBe(e.expired + e.notEnded + e.endedOtherwise);
    expect(e.endedOtherwise).toBe(0);
    expect(e.lateness.n).toBe(e.expired + e.notEnded);
    expect(e.samples).toHaveLength(e.lateness.n);
    expect(e.withinOneSecondRate).toBe(e.withinOneSecond / (e.expired + e.notEnded));
    // Every expiry due by the window's end was measured: Postgres agrees on the count. Compared at the
    // API's millisecond precision (Postgres keeps microseconds: one due within the same millisecond as
    // the window's end is due for the report).
    const { rows } = await ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sessions
        WHERE labels ? 'load_run' AND date_trunc('milliseconds', expires_at) <= $1`,
      [e.windowEnd],
    );
    expect(rows[0]!.n).toBe(e.due);
    expect(report.cleanup.left).toBe(0);
    expect(await live()).toBe(0);
    expect(report.pool.note).toContain('raised from 40');
    const pools = await ctx.db.query<{ max_total: number }>('SELECT max_total FROM pools');
    expect(pools.rows.map((p) => p.max_total)).toEqual([40]);
    expect(typeof report.targets.withinOneSecond.met).toBe('boolean');
    const markdown = await readFile(files.markdown, 'utf8');
    expect(markdown).toContain('expiries within 1 s of expires_at');
    expect(await readFile(files.svg, 'utf8')).toMatch(/^<svg [^>]*xmlns=/);
  }, 240_000);

  it('concurrent: holds N sessions, GETs them at the rate, reads RSS, and releases all', async () => {
    const { apiKey } = await ctx.seedKey();
    const { report, files } = await load<ConcurrentReport>(apiKey, [
      ...['--scenario', 'concurrent', '--sessions', '30', '--rate', '20', '--duration', '2'],
    ]);
    expect(report.create).toMatchObject({ admitted: 30, refused: 0, errors: 0, running: 30 });
    expect(report.get.scheduled).toBe(40);
    expect(Object.values(report.get.outcomes).reduce((a, b) => a + b, 0)).toBe(40);
    expect(report.get.latency.n).toBe(report.get.outcomes['200']);
    expect(report.get.latency.n + report.get.errors).toBe(40);
    for (const rss of Object.values(report.rss)) expect(rss).toBeGreaterThan(0);
    expect(report.cleanup).toEqual({ released: 30, left: 0 });
    expect(await live()).toBe(0);
    expect(report.pool.note).toContain('no operator scope');
    expect(await readFile(files.markdown, 'utf8')).toContain('| GET p99');
  }, 180_000);
});
