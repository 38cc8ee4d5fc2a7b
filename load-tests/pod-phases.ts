/**
 * Where a pod's CPU goes over one session's life, phase by phase, one pod at a time: start (spawn →
 * ready), the next second (Chromium goes on starting after its DevTools answer), the claim
 * (POST /session with nothing to configure), Playwright's `connectOverCDP`, a page at hand, `goto` a
 * local page, disconnect, delete. CPU of the pod's processes from a cgroup of this benchmark's own
 * (load-tests/harness/cpu-group.ts), and of this process (the driver, the client) apart; medians over
 * `--runs` after one uncounted run. Run as root.
 *
 *   node --import tsx load-tests/pod-phases.ts [--runs 7]
 */
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { agentWebSocket } from '../core/runtime/agent.client.ts';
import { testAgentAccess } from '../test/support/agent-access.ts';
import { testLocalDriver } from '../test/support/local-driver.ts';
import { CpuGroup } from './harness/cpu-group.ts';
import { BENCH_PAGE_PORT, serveLocalPage } from './harness/local-page.ts';
import { percentiles } from './stats.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const RUNS = Number(values.runs);
if (!(RUNS > 0)) throw new Error('--runs: a number above 0');

const group = CpuGroup.open('ventus-pod-phases');
if (!group) throw new Error('no writable cgroup v2: run as root');
group.keep();
const selfSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
const podSeconds = () => group.childrenUs() / 1e6;

/** Playwright speaks TCP; the agent listens on a unix socket: a plain byte relay in between. */
async function tcpToUnix(socketPath: string): Promise<net.Server> {
  const server = net.createServer((client) => {
    const agent = net.connect(socketPath);
    client.pipe(agent).pipe(client);
    client.on('error', () => agent.destroy());
    agent.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const site = await serveLocalPage();
const stateDir = await mkdtemp(path.join(os.tmpdir(), 'ventus-pod-phases-'));
const driver = testLocalDriver(stateDir, {
  egress: { allow: [`127.0.0.1:${BENCH_PAGE_PORT}`], allowPrivate: false },
});
const phases = new Map<string, { pod: number[]; client: number[] }>();
try {
  for (let run = 0; run <= RUNS; run++) {
    let pod0 = podSeconds();
    let self0 = selfSeconds();
    const lap = (name: string) => {
      const [pod, self] = [podSeconds(), selfSeconds()];
      if (run > 0) {
        const phase = phases.get(name) ?? { pod: [], client: [] };
        phase.pod.push(pod - pod0);
        phase.client.push(self - self0);
        phases.set(name, phase);
      }
      [pod0, self0] = [pod, self];
    };
    const pod = await driver.createPod({
      id: `phases${run}${Date.now().toString(36)}`,
      pool: 'phases',
      headless: true,
    });
    lap('start: spawn → ready');
    await sleep(1_000);
    lap('the second after ready');
    await driver.configureSession(pod, {});
    lap('claim (POST /session, nothing to configure)');
    const { url, headers } = agentWebSocket(testAgentAccess, pod, '/devtools/browser');
    const relay = await tcpToUnix(url.slice('ws+unix://'.length).split(':')[0]!);
    const { port } = relay.address() as net.AddressInfo;
    const browser = await chromium.connectOverCDP(`ws://127.0.0.1:${port}/devtools/browser`, { headers });
    lap('connectOverCDP');
    const context = browser.contexts()[0] ?? (await browser.newContext());
    const page = context.pages()[0] ?? (await context.newPage());
    lap('a page at hand');
    await page.goto(site.url);
    lap('goto a local page');
    await browser.close();
    relay.close();
    lap('disconnect');
    await driver.deletePod(pod.id);
    lap('delete');
  }
  const median = (list: number[]) => percentiles(list).p50;
  const ms = (seconds: number) => `${(seconds * 1000).toFixed(0)} ms`;
  const rows = [...phases].map(([name, p]) => `| ${name} | ${ms(median(p.pod))} | ${ms(median(p.client))} |`);
  const total = (pick: 'pod' | 'client') => [...phases.values()].reduce((sum, p) => sum + median(p[pick]), 0);
  process.stdout.write(
    [
      `One headless local pod's session, phase by phase: CPU medians over ${RUNS} runs, ${new Date().toISOString()}`,
      '',
      '| phase | the pod | this process (driver, client) |',
      '| --- | --- | --- |',
      ...rows,
      `| sum of the medians | ${ms(total('pod'))} | ${ms(total('client'))} |`,
      '',
    ].join('\n'),
  );
} finally {
  await driver.close();
  await driver.removeSandboxBase(); // as root: the pods' base and its copy of the agent bundle
  await site.close();
  await group.close();
  await rm(stateDir, { recursive: true, force: true });
}
process.exit(0);
