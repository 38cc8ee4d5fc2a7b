import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { HttpClient } from '../../load-tests/harness/http-client.ts';
import { DROPPED, OpenLoop, type Task } from '../../load-tests/harness/scheduler.ts';
import { TestContext } from '../support/test-context.ts';
import type { Stack } from '../../stack/stack.ts';

const run = promisify(execFile);
const VENTUS = fileURLToPath(new URL('../../bin/ventus.js', import.meta.url));

/**
 * Answers at once, except that the request with index `stallAt` (by arrival) and every one after
 * it are held until `stallMs` after that request arrived: a server that stops for a while.
 */
async function stallingServer(stallAt: number, stallMs: number) {
  const arrivals: number[] = [];
  /** The `?i=` of every request held (a busy machine may deliver requests out of their order). */
  const heldIndexes = new Set<number>();
  let releaseAt: number | undefined;
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const now = performance.now();
    arrivals.push(now);
    if (arrivals.length - 1 === stallAt) {
      releaseAt = now + stallMs;
      setTimeout(() => held.splice(0).forEach((r) => r.end('ok')), stallMs);
    }
    if (releaseAt !== undefined && now < releaseAt) {
      held.push(res);
      heldIndexes.add(Number(new URL(req.url ?? '/', 'http://x').searchParams.get('i')));
    } else res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    heldIndexes,
    releaseAt: () => releaseAt,
    close: () =>
      new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

function getTask(client: HttpClient): Task {
  return async ({ index }) => ({ outcome: String((await client.request('GET', `/?i=${index}`)).status) });
}

describe('the open-loop scheduler', () => {
  it('keeps sending on schedule through a stall and times each request from its scheduled start', async () => {
    const server = await stallingServer(5, 500);
    const client = new HttpClient(server.url, {});
    try {
      const loop = new OpenLoop({ rate: 50, durationMs: 1200, concurrency: 200, task: getTask(client) });
      const result = await loop.run();
      expect(result.samples).toHaveLength(60);
      expect(result.samples.every((s) => s.outcome === '200')).toBe(true);
      const releaseAt = server.releaseAt()!;
      expect(releaseAt).toBeDefined();
      // Arrivals did not wait for the stalled answers: the server saw them during the stall.
      const duringStall = server.arrivals.filter((t) => t > releaseAt - 500 && t < releaseAt);
      expect(duringStall.length).toBeGreaterThanOrEqual(15);
      // Every request the server held carries the wait behind it, from its scheduled start (a
      // closed-loop client would have recorded one slow request and short ones after it).
      const stalled = result.samples.filter((s) => server.heldIndexes.has(s.index));
      expect(stalled.length).toBeGreaterThanOrEqual(20);
      for (const s of stalled) {
        expect(s.latencyMs!).toBeGreaterThanOrEqual(releaseAt - (result.t0 + s.scheduledMs) - 1);
      }
      const slow = result.samples.filter((s) => s.latencyMs! >= 200);
      expect(slow.length).toBeGreaterThanOrEqual(10);
    } finally {
      client.close();
      await server.close();
    }
  });

  it('drops arrivals that find every slot busy and counts them as errors', async () => {
    const server = await stallingServer(0, 400);
    const client = new HttpClient(server.url, {});
    try {
      const loop = new OpenLoop({ rate: 50, durationMs: 300, concurrency: 3, task: getTask(client) });
      const { samples } = await loop.run();
      expect(samples).toHaveLength(15);
      const dropped = samples.filter((s) => s.outcome === DROPPED);
      expect(dropped.length).toBe(12);
      expect(dropped.every((s) => s.error && s.latencyMs === null)).toBe(true);
      expect(server.arrivals).toHaveLength(3);
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe('ventus load', () => {
  let ctx: TestContext;
  let stack: Stack;
  let apiKey: string;
  let out: string;

  beforeAll(async () => {
    ctx = await TestContext.create({
      minReady: 2,
      maxTotal: 20,
      env: { VENTUS_DRIVER: 'sim', VENTUS_RATE_LIMIT_PER_MINUTE: '1000000' },
    });
    stack = await ctx.startStack();
    apiKey = (await ctx.seedKey()).apiKey;
    out = await mkdtemp(path.join(os.tmpdir(), 'ventus-load-'));
  });
  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('--scenario create writes a JSON, Markdown and SVG report with every arrival counted', async () => {
    const { stdout } = await run(
      'node',
      [
        VENTUS,
        'load',
        '--target',
        stack.url,
        '--api-key',
        apiKey,
        '--scenario',
        'create',
        '--rate',
        '20',
        '--duration',
        '2s',
        '--concurrency',
        '50',
        '--out',
        out,
        '--driver-label',
        'sim',
        '--json',
      ],
      { env: { ...process.env, VENTUS_LOG_LEVEL: 'warn' } },
    );
    const printed = JSON.parse(stdout) as {
      files: { json: string; markdown: string; latencySvg: string; percentilesSvg: string };
      loadGeneratorCpuSeconds: number;
    };
    // The generator's own CPU, for benchmarks that split the machine's (cpu-by-process.ts).
    expect(printed.loadGeneratorCpuSeconds).toBeGreaterThan(0);
    expect(printed.loadGeneratorCpuSeconds).toBeLessThan(60);
    const report = JSON.parse(await readFile(printed.files.json, 'utf8')) as {
      summary: { scheduled: number; completed: number; errors: number; outcomes: Record<string, number> };
      environment: { target: string; driver: { name: string }; machine: { cores: number } };
      samples: unknown[];
      timeSeries: Array<{ scheduled: number }>;
    };
    expect(report.summary.scheduled).toBe(40);
    expect(report.samples).toHaveLength(40);
    expect(report.summary.errors).toBe(0);
    const { outcomes } = report.summary;
    expect(Object.keys(outcomes).every((o) => o === '202' || o === '503')).toBe(true);
    expect((outcomes['202'] ?? 0) + (outcomes['503'] ?? 0)).toBe(40);
    expect(outcomes['202']).toBeGreaterThan(0);
    expect(report.timeSeries.reduce((n, b) => n + b.scheduled, 0)).toBe(40);
    expect(report.environment).toMatchObject({ target: stack.url, driver: { name: 'sim' } });
    expect(report.environment.machine.cores).toBe(os.cpus().length);
    const markdown = await readFile(printed.files.markdown, 'utf8');
    expect(markdown).toContain('`create`: 20/s for 2 s');
    expect(markdown).toContain(path.basename(printed.files.latencySvg));
    for (const svg of [printed.files.latencySvg, printed.files.percentilesSvg]) {
      expect(await readFile(svg, 'utf8')).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    }
    expect(path.basename(printed.files.json)).toMatch(/^create-\d{8}T\d{6}Z\.json$/);
  });

  it('refuses bad flags with exit 2 and a clear line', async () => {
    const cases: Array<[string[], string]> = [
      [
        [
          '--target',
          stack.url,
          '--api-key',
          apiKey,
          '--scenario',
          'create',
          '--rate',
          'fast',
          '--duration',
          '2',
        ],
        '--rate="fast"',
      ],
      [
        ['--target', 'ftp://x', '--api-key', 'k', '--scenario', 'create', '--rate', '1', '--duration', '2'],
        '--target="ftp://x"',
      ],
      [
        ['--target', stack.url, '--api-key', apiKey, '--scenario', 'nope', '--rate', '1', '--duration', '2'],
        'expected one of create, churn, lifecycle',
      ],
      [
        ['--target', stack.url, '--scenario', 'create'],
        'missing --api-key (or VENTUS_API_KEY), --rate, --duration',
      ],
      [
        [
          '--target',
          stack.url,
          '--api-key',
          'vs_wrong',
          '--scenario',
          'create',
          '--rate',
          '1',
          '--duration',
          '1',
        ],
        '--api-key was refused (401)',
      ],
    ];
    const env = { ...process.env, VENTUS_API_KEY: '' };
    for (const [args, message] of cases) {
      const failed = await run('node', [VENTUS, 'load', ...args], { env }).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );
      expect(failed.code, args.join(' ')).toBe(2);
      expect(failed.stderr).toContain(message);
    }
  });
});
