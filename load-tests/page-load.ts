/**
 * Page loads through the service against the same Chromium driven directly (issue 15: the egress
 * check must not slow pages down; issue 19: within 5 % or 3 ms). Three paths load the harness's local
 * page, each on its own browser, interleaved in a new random order every round, after a warm-up:
 *   - through the service: one session (a sandboxed local pod: its own network namespace, every
 *     request through the agent's egress check), Playwright's `connectOverCDP` on its connect URL;
 *   - the headless shell over its DevTools WebSocket: started bare here, the same `connectOverCDP`
 *     on its own endpoint. The same client path as the service's, so the difference is the service;
 *   - the headless shell launched by Playwright, which drives it over a pipe. No remote browser can
 *     be driven that way; Playwright's WebSocket transport costs more a round trip than its pipe
 *     (the last column), and a `goto` waits on several of them.
 * It also times one Playwright round trip (`page.evaluate`) on each path.
 * The order changes every round because a load that follows one in the same browser is faster.
 *
 *   node --import tsx load-tests/page-load.ts [--loads 60]
 */
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { HEADLESS_SHELL, QUIET_FLAGS, startHeadlessShell } from './harness/bare-chromium.ts';
import { serveLocalPage } from './harness/local-page.ts';
import { runningSession } from './harness/scratch-sessions.ts';
import { startScratchStack } from './scratch-stack.ts';
import { percentiles, type Percentiles } from './stats.ts';

const { values } = parseArgs({ options: { loads: { type: 'string', default: '60' } } });
const LOADS = Number(values.loads);
const WARMUP = 5;
/** Playwright round trips per path (`page.evaluate('1')`): what one client call costs on each. */
const ROUND_TRIPS = 1000;

const PATHS = {
  service: 'through the service (sandboxed pod, egress check, proxy), over WebSocket',
  websocket: 'headless shell started directly, over its DevTools WebSocket',
  pipe: 'headless shell launched by Playwright, over a pipe',
} as const;
type PathName = keyof typeof PATHS;
const NAMES = Object.keys(PATHS) as PathName[];

function shuffled<T>(list: readonly T[]): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * `rounds` rounds of `step` on every path, in a new random order each round; ms per path, the first
 * `warmup` rounds left out.
 */
async function interleaved(
  rounds: number,
  warmup: number,
  step: (name: PathName, round: number) => Promise<unknown>,
): Promise<Record<PathName, number[]>> {
  const out = Object.fromEntries(NAMES.map((name) => [name, [] as number[]])) as Record<PathName, number[]>;
  for (let i = 0; i < warmup + rounds; i++) {
    for (const name of shuffled(NAMES)) {
      const t0 = performance.now();
      await step(name, i);
      if (i >= warmup) out[name].push(performance.now() - t0);
    }
  }
  return out;
}

const site = await serveLocalPage();
const scratch = await startScratchStack({
  VENTUS_HEADLESS: 'true',
  VENTUS_POOL_MIN_READY: '1',
  VENTUS_POOL_MAX_TOTAL: '2',
});
const shell = await startHeadlessShell();
const launched = await chromium.launch({ executablePath: HEADLESS_SHELL, args: QUIET_FLAGS });
const connected: Browser[] = [];
try {
  const session = await runningSession(scratch);
  const firstPage = async (url: string) => {
    const browser = await chromium.connectOverCDP(url);
    connected.push(browser);
    return browser.contexts()[0]!.newPage();
  };
  const pages: Record<PathName, Page> = {
    service: await firstPage(session.connect_url),
    websocket: await firstPage(shell.wsUrl),
    pipe: await (await launched.newContext()).newPage(),
  };
  const samples = await interleaved(LOADS, WARMUP, (name, i) =>
    pages[name].goto(`${site.url}?${name}-${i}`, { waitUntil: 'load' }),
  );
  const roundTrips = await interleaved(ROUND_TRIPS, 0, (name) => pages[name].evaluate('1'));
  const p = Object.fromEntries(NAMES.map((name) => [name, percentiles(samples[name])])) as Record<
    PathName,
    Percentiles
  >;
  const row = (name: PathName) =>
    `| ${PATHS[name]} | ${samples[name].length} | ${p[name].p50.toFixed(2)} | ${p[name].p95.toFixed(2)} | ${p[name].mean.toFixed(2)} | ${(percentiles(roundTrips[name]).p50 * 1000).toFixed(0)} |`;
  const against = (base: PathName) =>
    `p50 service/${base}: ${(p.service.p50 / p[base].p50).toFixed(3)} (goal <= 1.05, or within 3 ms: ${(p.service.p50 - p[base].p50).toFixed(2)} ms)`;
  process.stdout.write(
    [
      `page load (goto until load, local page), ${new Date().toISOString()}`,
      '',
      `| path | n | p50 ms | p95 ms | mean ms | page.evaluate p50 µs (n = ${ROUND_TRIPS}) |`,
      '| --- | --- | --- | --- | --- | --- |',
      ...NAMES.map(row),
      '',
      against('websocket'),
      against('pipe'),
      '',
    ].join('\n'),
  );
} finally {
  for (const browser of connected) await browser.close();
  await launched.close();
  await shell.stop();
  await scratch.close();
  await site.close();
}
