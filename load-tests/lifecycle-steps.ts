/**
 * The warm lifecycle step by step, one at a time, against its floors in the same run (issue 19's
 * "warm lifecycle p50 ≤ 90 ms"):
 *
 * - ours: create (asking `Prefer: wait=30`, as the SDK does; `--wait get`: answered at once, then a
 *   long-poll GET until RUNNING) → Playwright `connectOverCDP` (through the proxy, until a page is at
 *   hand) → `goto` the harness's page → release → disconnect, on a warm pool;
 * - a running headless shell: the same connect, `goto` and disconnect on a bare headless shell that
 *   is already up (no pod, no proxy: what the CDP steps cost Chromium alone);
 * - launching: Playwright launches the headless shell, opens a page, `goto`, closes (what a user does
 *   without us).
 *
 * Interleaved, after a warm-up; before every run of every path the pool is full again and the machine
 * quiet, so every claim is warm and no path runs beside the work another left behind.
 *
 *   node --import tsx load-tests/lifecycle-steps.ts [--runs 30] [--wait prefer|get]
 *
 * Written to load-tests/results/lifecycle-steps.md.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { HEADLESS_SHELL, QUIET_FLAGS, startHeadlessShell } from './harness/bare-chromium.ts';
import { ensureServices } from './harness/bench-services.ts';
import { describeMachine, machine } from './harness/environment.ts';
import { serveLocalPage } from './harness/local-page.ts';
import { postedSession, waitForWarm, waitRunning } from './harness/scratch-sessions.ts';
import { formatMarkdown } from './harness/write-report.ts';
import { percentiles } from './stats.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '30' }, wait: { type: 'string', default: 'prefer' } },
});
const RUNS = Number(values.runs);
/**
 * How ours learns RUNNING: `prefer` (the SDK's way: the create asks `Prefer: wait=30` and is answered
 * RUNNING, "to RUNNING" is then only a GET if it was not) or `get` (the create answers QUEUED at once,
 * then one long-poll GET).
 */
const WAIT = values.wait;
if (WAIT !== 'prefer' && WAIT !== 'get') throw new Error('--wait: prefer or get');
const WARMUP = 3;
/** The pause after the pool is full again (a released pod's teardown takes about this long). */
const QUIET_MS = 250;
type Step = 'create' | 'to RUNNING' | 'connect' | 'goto' | 'release' | 'disconnect';
type Timings = Partial<Record<Step | 'launch' | 'total', number>>;

await ensureServices();
// Imported after the variables are set: it reads them when loaded.
const { startScratchStack } = await import('./scratch-stack.ts');
const site = await serveLocalPage();
const scratch = await startScratchStack({
  VENTUS_DRIVER: 'local',
  VENTUS_HEADLESS: 'true',
  VENTUS_POOL_MIN_READY: '2',
  VENTUS_POOL_MAX_TOTAL: '4',
});
const bare = await startHeadlessShell();

/** Runs `steps` in order, timing each with performance.now(). */
async function timed(steps: [string, () => Promise<unknown>][]): Promise<Timings> {
  const out: Record<string, number> = {};
  const t0 = performance.now();
  for (const [name, run] of steps) {
    const t = performance.now();
    await run();
    out[name] = performance.now() - t;
  }
  out.total = performance.now() - t0;
  return out;
}

/**
 * Before every run of every path: the pool full again and the last pod's teardown over, so no path
 * runs beside the work another one left behind (a refill, a teardown). Ours runs beside its own.
 */
async function quiet(): Promise<void> {
  await waitForWarm(scratch, 2);
  await new Promise((r) => setTimeout(r, QUIET_MS));
}

async function ours(): Promise<Timings> {
  const api = scratch.stack.url;
  let id = '';
  let connectUrl = '';
  let browser: Browser | undefined;
  let page: Page | undefined;
  return timed([
    [
      'create',
      async () => {
        const created = await postedSession(scratch, {}, WAIT === 'prefer' ? 'wait=30' : undefined);
        ({ id, connect_url: connectUrl } = created);
        if (created.status !== 'RUNNING') connectUrl = '';
      },
    ],
    ['to RUNNING', async () => void (connectUrl ||= (await waitRunning(scratch, id)).connect_url)],
    [
      'connect',
      async () => {
        browser = await chromium.connectOverCDP(connectUrl);
        const context = browser.contexts()[0] ?? (await browser.newContext());
        page = context.pages()[0] ?? (await context.newPage());
      },
    ],
    ['goto', () => page!.goto(site.url, { waitUntil: 'load' })],
    [
      'release',
      async () => {
        const res = await fetch(`${api}/v1/sessions/${id}`, {
          method: 'PATCH',
          headers: scratch.headers,
          body: JSON.stringify({ status: 'REQUEST_RELEASE' }),
        });
        if (res.status !== 200) throw new Error(`release: ${res.status}`);
      },
    ],
    ['disconnect', () => browser!.close()],
  ]);
}

/** Opens a browser and its page (the step `name`), then `goto` and disconnect, timed. */
async function browserSteps(
  name: 'connect' | 'launch',
  open: () => Promise<{ browser: Browser; page: Page }>,
  query: string,
): Promise<Timings> {
  let opened: { browser: Browser; page: Page } | undefined;
  return timed([
    [name, async () => void (opened = await open())],
    ['goto', () => opened!.page.goto(`${site.url}?${query}`, { waitUntil: 'load' })],
    ['disconnect', () => opened!.browser.close()],
  ]);
}

const runningShell = () =>
  browserSteps(
    'connect',
    async () => {
      const browser = await chromium.connectOverCDP(bare.wsUrl);
      const context = browser.contexts()[0]!;
      return { browser, page: context.pages()[0] ?? (await context.newPage()) };
    },
    'bare',
  );

const launching = () =>
  browserSteps(
    'launch',
    async () => {
      const browser = await chromium.launch({ executablePath: HEADLESS_SHELL, args: QUIET_FLAGS });
      return { browser, page: await browser.newPage() };
    },
    'launch',
  );

const paths = { ours, 'a running headless shell': runningShell, launching } as const;
const samples: Record<string, Timings[]> = { ours: [], 'a running headless shell': [], launching: [] };
try {
  for (let i = 0; i < WARMUP + RUNS; i++) {
    for (const [name, run] of Object.entries(paths)) {
      await quiet();
      const t = await run();
      if (i >= WARMUP) samples[name]!.push(t);
    }
  }
} finally {
  await bare.stop();
  await scratch.close();
  await site.close();
}

const columns = [
  'create',
  'to RUNNING',
  'launch',
  'connect',
  'goto',
  'release',
  'disconnect',
  'total',
] as const;
const cell = (list: Timings[], step: (typeof columns)[number]) => {
  const values = list.map((t) => t[step]).filter((v): v is number => v !== undefined);
  if (values.length === 0) return '–';
  const p = percentiles(values);
  return `${p.p50.toFixed(1)} / ${p.p99.toFixed(1)}`;
};
const p50Total = (name: string) => percentiles(samples[name]!.map((t) => t.total!)).p50;
const text = [
  `# The warm lifecycle step by step (${new Date().toISOString()})`,
  '',
  describeMachine(machine()),
  '',
  `\`node --import tsx load-tests/lifecycle-steps.ts ${process.argv.slice(2).join(' ')}\`: n = ${RUNS} each, interleaved, after ${WARMUP} warm-up rounds; ms, p50 / p99. ` +
    (WAIT === 'prefer'
      ? 'Ours creates with `Prefer: wait=30`: its create includes the wait for RUNNING.'
      : 'Ours creates, then waits for RUNNING with a long-poll GET.'),
  '',
  `| path | ${columns.join(' | ')} |`,
  `| --- | ${columns.map(() => '---').join(' | ')} |`,
  ...Object.keys(paths).map(
    (name) => `| ${name} | ${columns.map((c) => cell(samples[name]!, c)).join(' | ')} |`,
  ),
  '',
  `Launching / ours, p50: ${(p50Total('launching') / p50Total('ours')).toFixed(2)}×.`,
  '',
].join('\n');
const file = fileURLToPath(new URL('./results/lifecycle-steps.md', import.meta.url));
await writeFile(file, await formatMarkdown(text));
process.stdout.write(text);
process.exit(0);
