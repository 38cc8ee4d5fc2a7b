/**
 * What the pod's egress path costs a page load, hop by hop, without the rest of the pod: the same
 * headless shell (launched by Playwright, as page-load.ts's direct side) loading the harness's page
 * directly, through the agent's forwarding proxy (runtime-image/agent/forward-proxy.ts, in this
 * process, with its egress check), and through socat in front of that proxy (the pod's bridge is a
 * socat). Interleaved, after a warm-up; page-load.ts gives the whole pod against direct.
 *
 *   node --import tsx load-tests/page-load-hops.ts [--loads 60]
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pino } from 'pino';
import { ForwardProxy } from '../runtime-image/agent/forward-proxy.ts';
import { HEADLESS_SHELL, QUIET_FLAGS } from './harness/bare-chromium.ts';
import { serveLocalPage } from './harness/local-page.ts';
import { percentiles } from './stats.ts';
import { freePort } from '../test/support/free-port.ts';

const { values } = parseArgs({ options: { loads: { type: 'string', default: '60' } } });
const LOADS = Number(values.loads);
const WARMUP = 5;

const site = await serveLocalPage();
const proxy = new ForwardProxy(pino({ level: 'silent' }), {
  allow: [new URL(site.url).host],
  allowPrivate: false,
});
const proxyPort = await proxy.listen();
const socatPort = await freePort();
const socat = spawn(
  'socat',
  [`TCP-LISTEN:${socatPort},bind=127.0.0.1,fork,reuseaddr`, `TCP:127.0.0.1:${proxyPort}`],
  { stdio: 'ignore' },
);
const viaProxy = (port: number) => [
  `--proxy-server=http://127.0.0.1:${port}`,
  '--proxy-bypass-list=<-loopback>',
];
const paths: Record<string, string[]> = {
  direct: [],
  'the forwarding proxy': viaProxy(proxyPort),
  'socat, then the forwarding proxy': viaProxy(socatPort),
};
const browsers: Browser[] = [];
try {
  const pages: Record<string, Page> = {};
  for (const [name, args] of Object.entries(paths)) {
    const browser = await chromium.launch({
      executablePath: HEADLESS_SHELL,
      args: [...QUIET_FLAGS, ...args],
    });
    browsers.push(browser);
    pages[name] = await browser.newPage();
  }
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(paths).map((name) => [name, []]));
  for (let i = 0; i < WARMUP + LOADS; i++) {
    for (const name of Object.keys(paths)) {
      const t0 = performance.now();
      await pages[name]!.goto(`${site.url}?${i}`, { waitUntil: 'load' });
      if (i >= WARMUP) samples[name]!.push(performance.now() - t0);
    }
  }
  const direct = percentiles(samples.direct!).p50;
  process.stdout.write(
    [
      `page load by egress hop (goto until load, local page), n = ${LOADS} each, ${new Date().toISOString()}`,
      '',
      '| path | p50 ms | p95 ms | p50 over direct |',
      '| --- | --- | --- | --- |',
      ...Object.entries(samples).map(([name, list]) => {
        const p = percentiles(list);
        return `| ${name} | ${p.p50.toFixed(2)} | ${p.p95.toFixed(2)} | ${(p.p50 - direct).toFixed(2)} ms |`;
      }),
      '',
    ].join('\n'),
  );
} finally {
  for (const browser of browsers) await browser.close();
  socat.kill();
  proxy.close();
  await site.close();
}
