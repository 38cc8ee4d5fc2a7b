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
 * It also times one Playwright round trip (`page.evaluate`) on each path. The client (Playwright)
 * runs in a process of its own (harness/page-load.client.ts), as a user's does; this process runs
 * the service (until 7 December the client ran here too, inside the service's process).
 * The order changes every round because a load that follows one in the same browser is faster.
 *
 * With VENTUS_KERNEL_RELAY=false the proxy and the agent relay CDP in their own processes, as before
 * the twelfth pass, not in their kernel relays.
 *
 *   [VENTUS_KERNEL_RELAY=false] node --import tsx load-tests/page-load.ts [--loads 60]
 */
import { parseArgs } from 'node:util';
import { startHeadlessShell } from './harness/bare-chromium.ts';
import { runClientProcess } from './harness/client-process.ts';
import { serveLocalPage } from './harness/local-page.ts';
import type { PageLoadPlan, PageLoadSamples } from './harness/page-load.client.ts';
import { runningSession } from './harness/scratch-sessions.ts';
import { cdpRelays, startScratchStack } from './scratch-stack.ts';
import { percentiles, type Percentiles } from './stats.ts';

const { values } = parseArgs({
  options: {
    loads: { type: 'string', default: '60' },
  },
});
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

const site = await serveLocalPage();
const scratch = await startScratchStack({
  VENTUS_HEADLESS: 'true',
  VENTUS_POOL_MIN_READY: '1',
  VENTUS_POOL_MAX_TOTAL: '2',
});
const shell = await startHeadlessShell();
try {
  const session = await runningSession(scratch);
  const measured = await runClientProcess<PageLoadPlan, PageLoadSamples>(
    new URL('./harness/page-load.client.ts', import.meta.url),
    {
      paths: { service: session.connect_url, websocket: shell.wsUrl, pipe: 'pipe' },
      pageUrl: site.url,
      loads: LOADS,
      warmup: WARMUP,
      roundTrips: ROUND_TRIPS,
    },
  );
  const samples = measured.loads as Record<PathName, number[]>;
  const roundTrips = measured.roundTrips as Record<PathName, number[]>;
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
      cdpRelays(),
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
  await shell.stop();
  await scratch.close();
  await site.close();
}
