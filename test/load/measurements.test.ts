import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { erlangB } from '../../core/capacity/erlang-b.ts';
import { HttpClient } from '../../load-tests/harness/http-client.ts';
import { poissonOffsets } from '../../load-tests/harness/scheduler.ts';
import { runCdp } from '../../load-tests/scenarios/cdp.scenario.ts';
import { writeCdpReport } from '../../load-tests/scenarios/cdp.report.ts';
import { parseSettings, type PoolSweepReport } from '../../load-tests/scenarios/pool-sweep.scenario.ts';
import { TestContext } from '../support/test-context.ts';
import type { Stack } from '../../stack/stack.ts';
import { agentWebSocket } from '../../core/runtime/agent.client.ts';
import { AGENT_BROWSER_PATH } from '../../runtime-image/agent/protocol.ts';

const run = promisify(execFile);
const VENTUS = fileURLToPath(new URL('../../bin/ventus.js', import.meta.url));

describe('pool-sweep helpers', () => {
  it('parses max_total:min_ready lists and refuses impossible ones', () => {
    expect(parseSettings('4:1, 6:2,8:3')).toEqual([
      { maxTotal: 4, minReady: 1 },
      { maxTotal: 6, minReady: 2 },
      { maxTotal: 8, minReady: 3 },
    ]);
    expect(parseSettings('4')).toMatch(/not max_total:min_ready/);
    expect(parseSettings('2:3')).toMatch(/min_ready <= max_total/);
  });

  it('draws Poisson arrivals that repeat with the seed and average the rate', () => {
    const a = poissonOffsets(50, 100_000, 7);
    expect(poissonOffsets(50, 100_000, 7)).toEqual(a);
    expect(a.length).toBeGreaterThan(4500);
    expect(a.length).toBeLessThan(5500);
    expect(a.every((t, i) => t < 100_000 && (i === 0 || t >= a[i - 1]!))).toBe(true);
  });
});

describe('ventus load --scenario cdp (headless Chromium)', () => {
  let ctx: TestContext;
  let stack: Stack;
  let http: HttpClient;
  let out: string;

  beforeAll(async () => {
    ctx = await TestContext.create({
      minReady: 1,
      maxTotal: 2,
      env: { VENTUS_DRIVER: 'local', VENTUS_HEADLESS: 'true', VENTUS_RATE_LIMIT_PER_MINUTE: '1000000' },
    });
    stack = await ctx.startStack();
    http = new HttpClient(stack.url, { authorization: `Bearer ${(await ctx.seedKey()).apiKey}` });
    out = await mkdtemp(path.join(os.tmpdir(), 'ventus-cdp-'));
  }, 60_000);
  afterAll(async () => {
    http?.close();
    await stack?.close();
    await ctx?.close();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('measures the same browser through the proxy and directly, with differences and ratios', async () => {
    const report = await runCdp({
      http,
      target: stack.url,
      driver: { name: 'local', source: '--driver-label' },
      // The test sees inside the stack: the pod agent's socket is the proxy's route.
      direct: async (id) => {
        const route = (await stack.services.sessionRoutes.get(id))!;
        const pod = { id: route.podId, controlUrl: route.controlUrl };
        return agentWebSocket(stack.services.agentAccess, pod, AGENT_BROWSER_PATH);
      },
      roundTrips: 20,
      screenshots: 2,
    });
    expect(report.sameBrowser).toBe(true);
    const { proxy, direct } = report.roundTripUs;
    expect(proxy.n).toBe(20);
    expect(direct?.n).toBe(20);
    expect(proxy.p50).toBeGreaterThan(0);
    expect(direct!.p50).toBeGreaterThan(0);
    expect(report.roundTripUs.addedP50).toBeCloseTo(proxy.p50 - direct!.p50, 0);
    expect(report.roundTripUs.ratioP50).toBeGreaterThan(0);
    const tp = report.throughput;
    expect(tp.proxy.frames).toBe(2);
    expect(tp.direct?.frames).toBe(2);
    // A 1280×800 PNG of noise is megabytes; both sides received the same page.
    expect(tp.proxy.bytes).toBeGreaterThan(1_000_000);
    expect(Math.abs(tp.proxy.bytes - tp.direct!.bytes)).toBeLessThan(tp.proxy.bytes * 0.05);
    expect(tp.ratio).toBeGreaterThan(0);
    expect(typeof report.targets.addedP50.met).toBe('boolean');
    expect(typeof report.targets.throughputRatio.met).toBe('boolean');

    const session = await http.request('GET', `/v1/sessions/${report.sessionId}`);
    expect((session.body as { status: string }).status).not.toBe('RUNNING');

    const files = await writeCdpReport(report, out, 'cdp-test');
    const markdown = await readFile(files.markdown, 'utf8');
    expect(markdown).toMatch(/\| proxy +\| 20 /);
    expect(markdown).toMatch(/\| direct +\| 20 /);
    expect(markdown).toContain('Throughput ratio proxy/direct');
    expect(await readFile(files.percentilesSvg, 'utf8')).toMatch(/^<svg [^>]*xmlns=/);
  }, 120_000);
});

describe('ventus load --scenario pool-sweep (sim driver)', () => {
  let ctx: TestContext;
  let stack: Stack;
  let out: string;

  beforeAll(async () => {
    ctx = await TestContext.create({
      minReady: 1,
      maxTotal: 4,
      env: { VENTUS_DRIVER: 'sim', VENTUS_SIM_READY_MS: '300', VENTUS_RATE_LIMIT_PER_MINUTE: '1000000' },
    });
    stack = await ctx.startStack();
    out = await mkdtemp(path.join(os.tmpdir(), 'ventus-sweep-'));
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
    if (out) await rm(out, { recursive: true, force: true });
  });

  const sweep = (apiKey: string) =>
    run(
      'node',
      [
        ...[VENTUS, 'load', '--target', stack.url, '--api-key', apiKey, '--scenario', 'pool-sweep'],
        ...['--settings', '2:1', '--rate', '3', '--duration', '3', '--session-seconds', '1'],
        ...['--out', out, '--driver-label', 'sim', '--json'],
      ],
      { env: { ...process.env, VENTUS_LOG_LEVEL: 'warn' } },
    );

  it('reports the measured 503 rate and the Erlang-B prediction, and restores the pool', async () => {
    const { apiKey } = await ctx.seedKey(['operator']);
    const { stdout } = await sweep(apiKey);
    const printed = JSON.parse(stdout) as { files: { json: string; markdown: string; svg: string } };
    const report = JSON.parse(await readFile(printed.files.json, 'utf8')) as PoolSweepReport;
    expect(report.rows).toHaveLength(1);
    const row = report.rows[0]!;
    expect(row.setting).toEqual({ maxTotal: 2, minReady: 1 });
    expect(row.arrivals).toBe(row.samples.length);
    expect(row.errors).toBe(0);
    expect(row.admitted + row.refused).toBe(row.arrivals);
    expect(row.admitted).toBeGreaterThan(0);
    expect(row.measured.rate503).toBe(row.refused / row.arrivals);
    expect(row.predicted.rate503).toBeCloseTo(erlangB(2, 3 * 1), 12);
    expect(row.predicted.warmHitRate).toBeCloseTo(1 - erlangB(1, (3 * row.warmupMs!) / 1000), 12);
    expect(row.measured.warm + row.measured.cold).toBe(row.admitted);
    const admitted = row.samples.filter((x) => x.outcome === '202');
    expect(admitted.every((x) => x.toRunningMs! > 0 && typeof x.serverToRunningMs === 'number')).toBe(true);
    expect(report.original).toEqual({ maxTotal: 4, minReady: 1 });
    const markdown = await readFile(printed.files.markdown, 'utf8');
    expect(markdown).toContain('503 rate Erlang-B');
    expect(markdown).toMatch(/\| 2:1 +\|/);
    expect(await readFile(printed.files.svg, 'utf8')).toContain('503 rate, Erlang-B');

    const admin = new HttpClient(stack.url, { authorization: `Bearer ${apiKey}` });
    try {
      const pool = (await admin.request('GET', `/v1/pools/${report.config.pool}`)).body;
      expect(pool).toMatchObject({ max_total: 4, min_ready: 1 });
    } finally {
      admin.close();
    }
  }, 120_000);

  it('refuses a key without the operator scope with exit 2', async () => {
    const { apiKey } = await ctx.seedKey();
    const failed = await sweep(apiKey).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain('operator scope');
  }, 60_000);
});
