/**
 * The local driver: the conformance suite (headless) plus what is specific to local pods and their
 * agent (on-disk record, agent HTTP surface, signals).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../core/runtime/driver.ts';
import { LocalDriver, podAgentCommand, resolveChromium } from '../../core/runtime/local.driver.ts';
import { POD_MARKER_VAR } from '../../core/runtime/pod-processes.util.ts';
import { chromium } from 'playwright-core';
import { describeDriverConformance, eventually, podId } from './driver.conformance.ts';
import { RawCdp } from './raw-cdp.client.ts';
import { browserPid, localHarness, podProcesses, type LocalHarness } from './local.harness.ts';

describeDriverConformance('local, headless', () => localHarness(true));
// Headful conformance is in local-headful.driver.test.ts: a separate file runs in a parallel fork.

describe('local driver and pod agent', { timeout: 60_000 }, () => {
  let h: LocalHarness;
  let pod: Pod;

  beforeAll(async () => {
    h = await localHarness(true);
    pod = await h.driver.createPod({ id: podId('agent'), pool: 'p1', headless: true });
  }, 60_000);

  afterAll(async () => {
    await h?.cleanup();
  }, 60_000);

  it('records the pod in <stateDir>/<id>/pod.json, next to its user-data-dir', () => {
    const dir = h.podDir(pod.id);
    const record = JSON.parse(readFileSync(join(dir, 'pod.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toEqual({
      id: pod.id,
      pool: 'p1',
      pid: expect.any(Number) as number,
      port: Number(new URL(pod.controlUrl).port),
      createdAt: pod.createdAt.toISOString(),
      headless: true,
    });
    expect(existsSync(join(dir, 'user-data', 'Default'))).toBe(true);
    expect(pod.cdpUrl).toBe(`ws://127.0.0.1:${record.port as number}/devtools/browser`);
    expect(pod.controlUrl).toBe(`http://127.0.0.1:${record.port as number}`);
  });

  it('answers /healthz and rewrites /json/version to point at the agent', async () => {
    const health = await fetch(`${pod.controlUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });

    const version = (await (await fetch(`${pod.controlUrl}/json/version`)).json()) as Record<string, string>;
    expect(version.Browser).toMatch(/Chrome/);
    const wsUrl = version.webSocketDebuggerUrl ?? '';
    expect(wsUrl).toMatch(
      new RegExp(`^ws://127\\.0\\.0\\.1:${new URL(pod.controlUrl).port}/devtools/browser/[\\w-]+$`),
    );
    // Any browser path reaches the browser: the advertised one, and one with a made-up guid.
    for (const url of [wsUrl, `${pod.cdpUrl}/not-the-real-guid`]) {
      const cdp = await RawCdp.connect(url);
      expect(await cdp.send('Browser.getVersion')).toHaveProperty('product');
      cdp.close();
    }
    await expect(RawCdp.connect(pod.cdpUrl.replace('/devtools/browser', '/nope'))).rejects.toThrow(/404/);
    // Page endpoints are relayed too (some tools attach to one tab directly).
    const browserCdp = await RawCdp.connect(pod.cdpUrl);
    const { targetInfos } = await browserCdp.send<{ targetInfos: { targetId: string; type: string }[] }>(
      'Target.getTargets',
    );
    browserCdp.close();
    const page = targetInfos.find((t) => t.type === 'page')!;
    const pageCdp = await RawCdp.connect(`ws://${new URL(pod.cdpUrl).host}/devtools/page/${page.targetId}`);
    const sum = await pageCdp.send<{ result: { value: number } }>('Runtime.evaluate', {
      expression: '20 + 22',
    });
    expect(sum.result.value).toBe(42);
    pageCdp.close();
    // Clients given the HTTP URL discover the WebSocket through /json/version.
    const browser = await chromium.connectOverCDP(pod.controlUrl);
    expect(browser.version()).toMatch(/^\d+\./);
    await browser.close();
  });

  it('validates POST /session: 400 for a bad body, 204 no-op for an empty one', async () => {
    await expect(h.driver.configureSession(pod, { viewport: { width: -1, height: 600 } })).rejects.toThrow(
      /400/,
    );
    await expect(h.driver.configureSession(pod, {})).resolves.toBeUndefined();
    const bare = await fetch(`${pod.controlUrl}/session`, { method: 'POST' });
    expect(bare.status).toBe(204);
    const notJson = await fetch(`${pod.controlUrl}/session`, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
  });

  it('refuses a duplicate or path-unsafe pod id', async () => {
    await expect(h.driver.createPod({ id: pod.id, pool: 'p1', headless: true })).rejects.toThrow(/exists/);
    await expect(h.driver.createPod({ id: '../escape', pool: 'p1', headless: true })).rejects.toThrow(
      /invalid/,
    );
    expect(await h.driver.getPod('../escape')).toBeUndefined();
  });

  it("Chromium's HOME (downloads, config, crash dumps) is inside the pod dir, gone with the pod", async () => {
    const p = await h.driver.createPod({ id: podId('home'), pool: 'p1', headless: true });
    const dir = h.podDir(p.id);
    const pid = browserPid(dir);
    expect(pid).toBeDefined();
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain(`HOME=${join(dir, 'home')}`);
    expect(environ).toContain(`XDG_CONFIG_HOME=${join(dir, 'home', '.config')}`);
    expect(existsSync(join(dir, 'home'))).toBe(true);
    await h.driver.deletePod(p.id);
    expect(existsSync(dir)).toBe(false);
  });

  it('agent alone on SIGTERM: stops the browser, wipes the user-data-dir, exits', async () => {
    const victim = await h.driver.createPod({ id: podId('sigterm'), pool: 'p1', headless: true });
    const dir = h.podDir(victim.id);
    const { pid } = JSON.parse(readFileSync(join(dir, 'pod.json'), 'utf8')) as { pid: number };
    process.kill(pid, 'SIGTERM'); // the agent only, not its group: what Kubernetes does to PID 1
    expect(await eventually(() => podProcesses(dir).length === 0, 5_000)).toBe(true);
    expect(existsSync(join(dir, 'user-data'))).toBe(false);
    expect(await h.driver.getPod(victim.id)).toMatchObject({ alive: false });
    await h.driver.deletePod(victim.id);
    expect(existsSync(dir)).toBe(false);
  });

  it('close() aborts a creation in flight and cleans it up (pods already made stay)', async () => {
    const driver = new LocalDriver({ stateDir: h.stateDir });
    const id = podId('closing');
    const creating = driver.createPod({ id, pool: 'p1', headless: true });
    // Closed as soon as the agent is spawned (its record written), well before Chromium answers.
    expect(await eventually(() => existsSync(join(h.podDir(id), 'pod.json')), 5_000, 2)).toBe(true);
    await driver.close();
    await expect(creating).rejects.toThrow(/driver closed/);
    expect(existsSync(h.podDir(id))).toBe(false);
    expect(podProcesses(h.podDir(id))).toEqual([]);
    expect(await eventually(() => h.driver.isHealthy(pod), 5_000)).toBe(true);
  });

  it('an agent whose starter went away before the ready line exits on its own', async () => {
    const dir = h.podDir(podId('orphan'));
    const [node, ...args] = podAgentCommand();
    const agent = spawn(node, args, {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, HEADLESS: 'true', USER_DATA_DIR: join(dir, 'user-data'), [POD_MARKER_VAR]: dir },
    });
    agent.stdout.destroy(); // as if the driver's process had died
    const [code] = (await Promise.race([
      new Promise((resolve) => agent.once('exit', (c) => resolve([c]))),
      sleep(20_000, ['still running']),
    ])) as [unknown];
    expect(code).toBe(0);
    expect(podProcesses(dir)).toEqual([]);
    expect(existsSync(join(dir, 'user-data')) && readdirSync(join(dir, 'user-data')).length).toBeFalsy();
  });

  it('resolves a Chromium executable for both modes', () => {
    expect(resolveChromium({ headless: true })).toMatch(/chrom/);
    expect(resolveChromium({ headless: false })).toMatch(/chromium$/);
    expect(resolveChromium({ headless: true, env: { VENTUS_CHROMIUM_PATH: '/opt/x' } })).toBe('/opt/x');
  });
});
