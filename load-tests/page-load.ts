/**
 * Page loads through the service against the same Chromium driven directly (issue 15: the egress
 * check must not slow pages down; goal: within 5 %). One session (a sandboxed local pod: its own
 * network namespace, every request through the agent's egress check) and one headless shell launched
 * here with the same flags, both loading the harness's local page, interleaved, after a warm-up.
 *
 *   node --import tsx load-tests/page-load.ts [--loads 60]
 */
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { serveLocalPage } from './harness/local-page.ts';
import { runningSession } from './harness/scratch-sessions.ts';
import { startScratchStack } from './scratch-stack.ts';
import { percentiles } from './stats.ts';

const { values } = parseArgs({ options: { loads: { type: 'string', default: '60' } } });
const LOADS = Number(values.loads);
const WARMUP = 5;
const FLAGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

async function timeGoto(page: Page, url: string): Promise<number> {
  const t0 = performance.now();
  await page.goto(url, { waitUntil: 'load' });
  return performance.now() - t0;
}

const site = await serveLocalPage();
const scratch = await startScratchStack({
  VENTUS_HEADLESS: 'true',
  VENTUS_POOL_MIN_READY: '1',
  VENTUS_POOL_MAX_TOTAL: '2',
});
const direct = await chromium.launch({ executablePath: '/usr/bin/chromium-headless-shell', args: FLAGS });
try {
  const session = await runningSession(scratch);
  const ours = await chromium.connectOverCDP(session.connect_url);
  const viaService = await ours.contexts()[0]!.newPage();
  const viaDirect = await (await direct.newContext()).newPage();
  const samples = { service: [] as number[], direct: [] as number[] };
  for (let i = 0; i < WARMUP + LOADS; i++) {
    // Interleaved (and alternating which goes first), so machine noise falls on both alike.
    const order = i % 2 === 0 ? (['service', 'direct'] as const) : (['direct', 'service'] as const);
    for (const which of order) {
      const ms = await timeGoto(which === 'service' ? viaService : viaDirect, `${site.url}?${which}-${i}`);
      if (i >= WARMUP) samples[which].push(ms);
    }
  }
  await ours.close();
  const service = percentiles(samples.service);
  const plain = percentiles(samples.direct);
  const row = (name: string, n: number, p: typeof service) =>
    `| ${name} | ${n} | ${p.p50.toFixed(2)} | ${p.p95.toFixed(2)} | ${p.mean.toFixed(2)} |`;
  const ratio = service.p50 / plain.p50;
  process.stdout.write(
    [
      `page load (goto until load, local page), ${new Date().toISOString()}`,
      '',
      '| path | n | p50 ms | p95 ms | mean ms |',
      '| --- | --- | --- | --- | --- |',
      row('through the service (sandboxed pod, egress check, proxy)', samples.service.length, service),
      row('headless shell launched directly', samples.direct.length, plain),
      '',
      `p50 ratio service/direct: ${ratio.toFixed(3)} (goal <= 1.05, or within 3 ms: ${(service.p50 - plain.p50).toFixed(2)} ms)`,
      '',
    ].join('\n'),
  );
} finally {
  await direct.close();
  await scratch.close();
  await site.close();
}
