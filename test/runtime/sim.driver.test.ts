/**
 * The sim driver: the conformance suite (against simulated browsers) plus what is specific to the
 * shared sim runtime server (one per data dir, found and started by whichever process needs it
 * first, outliving its starter) and its minimal CDP.
 */
import { testAgentAccess } from '../support/agent-access.ts';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../core/config/config.ts';
import { createDriver } from '../../core/runtime/create-driver.ts';
import { SimDriver } from '../../core/runtime/sim/sim.driver.ts';
import { ensureSimServer, stopSimServer } from '../../core/runtime/sim/sim-server.launcher.ts';
import { isProcessAlive, readSimServerState } from '../../core/runtime/sim/sim-server.state.ts';
import { describeDriverConformance, eventually, podId } from './driver.conformance.ts';
import { RawCdp } from './raw-cdp.client.ts';
import { createPodInAnotherProcess, simHarness, type SimHarness } from './sim.harness.ts';

// 600 ms: long enough for the suite's abort (at 100 ms) to land while the pod is still starting.
describeDriverConformance('sim', () => simHarness(600));

/** A fresh data dir whose sim server (if any gets started) is stopped and wiped afterwards. */
async function freshStateDir(dirs: string[]): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ventus-sim-test-'));
  dirs.push(dataDir);
  return join(dataDir, 'sim');
}

describe('sim driver and sim runtime server', { timeout: 60_000 }, () => {
  let h: SimHarness;
  const extraDirs: string[] = [];
  const spec = (prefix: string) => ({ id: podId(prefix), pool: 'sim', headless: true });

  beforeAll(async () => {
    h = await simHarness(50);
  }, 60_000);

  afterAll(async () => {
    await h?.cleanup();
    for (const dataDir of extraDirs) {
      await stopSimServer(join(dataDir, 'sim'));
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('answers a minimal CDP: version, one page target, contexts, discovery, echo, Browser.close', async () => {
    const pod = await h.driver.createPod(spec('cdp'));
    try {
      const cdp = await RawCdp.connect(pod.cdpUrl);
      const version = await cdp.send<{ product: string; protocolVersion: string }>('Browser.getVersion');
      expect(version).toMatchObject({ product: 'SimChrome/1.0', protocolVersion: '1.3' });
      const { targetInfos } = await cdp.send<{ targetInfos: { type: string; targetId: string }[] }>(
        'Target.getTargets',
      );
      expect(targetInfos.map((t) => t.type)).toEqual(['page']);
      expect(await cdp.send('Target.getBrowserContexts')).toEqual({ browserContextIds: [] });
      const { browserContextId } = await cdp.send<{ browserContextId: string }>(
        'Target.createBrowserContext',
      );
      expect(await cdp.send('Target.getBrowserContexts')).toEqual({ browserContextIds: [browserContextId] });

      const created: unknown[] = [];
      cdp.ws.on('message', (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as { method?: string; params?: unknown };
        if (msg.method === 'Target.targetCreated') created.push(msg.params);
      });
      expect(await cdp.send('Target.setDiscoverTargets', { discover: true })).toEqual({});
      expect(await eventually(() => created.length === 1, 2_000)).toBe(true);

      expect(await cdp.send('Page.navigate', { url: 'https://example.com' })).toEqual({});
      const payload = { blob: 'x'.repeat(4 * 1024 * 1024), nested: { n: 1 } };
      expect(await cdp.send('Sim.echo', payload)).toEqual(payload);

      // A page endpoint answers too.
      const page = await RawCdp.connect(
        pod.cdpUrl.replace(/devtools\/browser\/.*$/, `devtools/page/${targetInfos[0]!.targetId}`),
      );
      expect(await page.send('Runtime.enable')).toEqual({});
      page.close();

      const closed = once(cdp.ws, 'close');
      expect(await cdp.send('Browser.close')).toEqual({});
      await closed;
    } finally {
      await h.driver.deletePod(pod.id);
    }
  });

  it('serves /json/version and /json/list, and validates and applies POST /session', async () => {
    const pod = await h.driver.createPod(spec('http'));
    try {
      const version = (await (await fetch(`${pod.controlUrl}/json/version`)).json()) as Record<
        string,
        string
      >;
      expect(version.Browser).toBe('SimChrome/1.0');
      expect(version.webSocketDebuggerUrl).toBe(pod.cdpUrl);
      const list = (await (await fetch(`${pod.controlUrl}/json/list`)).json()) as { type: string }[];
      expect(list.map((t) => t.type)).toEqual(['page']);

      await expect(h.driver.configureSession(pod, { viewport: { width: -1, height: 600 } })).rejects.toThrow(
        /400/,
      );
      await h.driver.configureSession(pod, {
        userAgent: 'LoadTest/1.0',
        viewport: { width: 800, height: 600 },
      });
      const cdp = await RawCdp.connect(version.webSocketDebuggerUrl!);
      expect(await cdp.send('Browser.getVersion')).toMatchObject({ userAgent: 'LoadTest/1.0' });
      cdp.close();
    } finally {
      await h.driver.deletePod(pod.id);
    }
  });

  it('honours the ready delay: ready no sooner than the delay', async () => {
    const driver = new SimDriver({ stateDir: h.stateDir, readyMs: 1_000 });
    const started = Date.now();
    const pod = await driver.createPod(spec('delay'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(await driver.getPod(pod.id)).toMatchObject({ id: pod.id, alive: true });
    await driver.deletePod(pod.id);
    await driver.close();
  });

  it('reads VENTUS_SIM_READY_MS (default 50, validated) and createDriver picks the sim driver', async () => {
    expect(loadConfig({}).simReadyMs).toBe(50);
    for (const bad of ['abc', '-1', '60001', '1.5'])
      expect(() => loadConfig({ VENTUS_SIM_READY_MS: bad })).toThrow(ConfigError);
    const config = loadConfig({
      VENTUS_DRIVER: 'sim',
      VENTUS_DATA_DIR: h.dataDir,
      VENTUS_SIM_READY_MS: '300',
    });
    expect(config.simReadyMs).toBe(300);
    const driver = createDriver(config, testAgentAccess);
    expect(driver.kind).toBe('sim');
    const started = Date.now();
    const pod = await driver.createPod(spec('config'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    // Same data dir, same server: the harness's driver sees it.
    expect(await h.driver.getPod(pod.id)).toMatchObject({ alive: true });
    await driver.deletePod(pod.id);
    await driver.close();
    expect(() => createDriver(loadConfig({ VENTUS_DRIVER: 'kubernetes' }), testAgentAccess)).toThrow(
      /VENTUS_K8S_IMAGE/,
    );
  });

  it('processes starting at once on a fresh data dir share one server, which outlives them all', async () => {
    const stateDir = await freshStateDir(extraDirs);
    const ids = [podId('proc'), podId('proc'), podId('proc')];
    const results = await Promise.all(ids.map((id) => createPodInAnotherProcess(stateDir, id)));
    expect(new Set(results.map((r) => r.serverPid)).size).toBe(1);
    expect((await readSimServerState(stateDir))?.pid).toBe(results[0]!.serverPid);

    const here = new SimDriver({ stateDir });
    const listed = await here.listPods();
    expect(listed.map((p) => p.id).sort()).toEqual([...ids].sort());
    for (const r of results) {
      const seen = listed.find((p) => p.id === r.pod.id)!;
      expect(seen).toMatchObject({ pool: 'other-process', alive: true, cdpUrl: r.pod.cdpUrl });
      expect(seen.createdAt.toISOString()).toBe(r.pod.createdAt);
      expect(await here.isHealthy(seen)).toBe(true);
    }
    const cdp = await RawCdp.connect(results[0]!.pod.cdpUrl);
    expect(await cdp.send('Browser.getVersion')).toHaveProperty('product', 'SimChrome/1.0');
    cdp.close();
    for (const id of ids) await here.deletePod(id);
    expect(await here.listPods()).toEqual([]);
    await here.close();
  });

  it("keeps pods after the creating driver's close; another instance lists, probes and deletes them", async () => {
    const creator = new SimDriver({ stateDir: h.stateDir, readyMs: 0 });
    const pod = await creator.createPod(spec('outlive'));
    await creator.close();
    const other = h.reopen();
    const seen = await other.getPod(pod.id);
    expect(seen).toMatchObject({ id: pod.id, alive: true, cdpUrl: pod.cdpUrl, controlUrl: pod.controlUrl });
    expect(await other.isHealthy(seen!)).toBe(true);
    await other.deletePod(pod.id);
    expect(await creator.getPod(pod.id)).toBeUndefined();
    await other.close();
  });

  it('deletes idempotently, and refuses a duplicate or path-unsafe id', async () => {
    const pod = await h.driver.createPod(spec('idem'));
    await expect(h.driver.createPod({ id: pod.id, pool: 'sim', headless: true })).rejects.toThrow(/exists/);
    await expect(h.driver.createPod({ id: '../escape', pool: 'sim', headless: true })).rejects.toThrow(
      /invalid/,
    );
    expect(await h.driver.getPod('../escape')).toBeUndefined();
    await h.driver.deletePod(pod.id);
    await h.driver.deletePod(pod.id);
    await h.driver.deletePod(podId('never'));
    await h.driver.deletePod('../escape');
    expect(await h.driver.getPod(pod.id)).toBeUndefined();
    expect(await h.leftovers(pod.id)).toEqual([]);
  });

  it('a killed pod is not alive, unhealthy and refuses CDP; a stalled one is alive but answers nothing', async () => {
    const killed = await h.driver.createPod(spec('killed'));
    await h.driver.injectFault(killed.id, 'kill');
    expect(await h.driver.getPod(killed.id)).toMatchObject({ alive: false });
    expect(await h.driver.isHealthy(killed)).toBe(false);
    await expect(RawCdp.connect(killed.cdpUrl)).rejects.toThrow(/502/);
    await h.driver.deletePod(killed.id);

    const stalled = await h.driver.createPod(spec('stalled'));
    const client = await RawCdp.connect(stalled.cdpUrl);
    await h.driver.injectFault(stalled.id, 'stall');
    expect(await h.driver.getPod(stalled.id)).toMatchObject({ alive: true });
    expect(await h.driver.isHealthy(stalled)).toBe(false);
    const answer = await Promise.race([
      client.send('Browser.getVersion').then(() => 'answered'),
      sleep(500, 'no answer'),
    ]);
    expect(answer).toBe('no answer');
    const closed = once(client.ws, 'close');
    await h.driver.deletePod(stalled.id); // cuts what the stalled pod held
    await closed;
    await expect(h.driver.injectFault(stalled.id, 'kill')).rejects.toThrow(/no such pod/);
  });

  it('hides a pod while it starts; close() aborts that creation and removes it (made pods stay)', async () => {
    const kept = await h.driver.createPod(spec('kept'));
    const driver = new SimDriver({ stateDir: h.stateDir, readyMs: 10_000 });
    const s = spec('closing');
    const creating = driver.createPod(s);
    expect(await eventually(async () => (await h.leftovers(s.id)).length > 0, 5_000)).toBe(true);
    // Starting (maybe in another process) is not a pod yet, as with the local driver.
    expect(await h.driver.getPod(s.id)).toBeUndefined();
    expect((await h.driver.listPods()).map((p) => p.id)).not.toContain(s.id);
    await driver.close();
    await expect(creating).rejects.toThrow(/driver closed/);
    expect(await h.leftovers(s.id)).toEqual([]);
    expect(await h.driver.isHealthy(kept)).toBe(true);
    await h.driver.deletePod(kept.id);
  });

  it('hosts hundreds of pods at once on one port', async () => {
    const specs = Array.from({ length: 300 }, () => spec('many'));
    const pods = await Promise.all(specs.map((s) => h.driver.createPod(s)));
    expect(new Set(pods.map((p) => new URL(p.controlUrl).port)).size).toBe(1);
    const listed = new Set((await h.driver.listPods()).map((p) => p.id));
    expect(specs.every((s) => listed.has(s.id))).toBe(true);
    const healthy = await Promise.all(pods.slice(0, 50).map((p) => h.driver.isHealthy(p)));
    expect(healthy.every(Boolean)).toBe(true);
    await Promise.all(pods.map((p) => h.driver.deletePod(p.id)));
    expect((await h.driver.listPods()).filter((p) => listed.has(p.id))).toEqual([]);
  });

  it('replaces a server that server.json names but that is gone; stopSimServer stops it', async () => {
    const stateDir = await freshStateDir(extraDirs);
    await mkdir(stateDir, { recursive: true });
    // A port nothing listens on, and a pid that is not running.
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const deadPort = (probe.address() as { port: number }).port;
    probe.close();
    const stale = {
      pid: 2 ** 22 - 3,
      host: '127.0.0.1',
      port: deadPort,
      startedAt: new Date().toISOString(),
    };
    await writeFile(join(stateDir, 'server.json'), JSON.stringify(stale));

    const driver = new SimDriver({ stateDir });
    expect(await driver.listPods()).toEqual([]); // reads never start a server
    expect(existsSync(join(stateDir, 'server.log'))).toBe(false);
    const pod = await driver.createPod(spec('stale'));
    const state = await readSimServerState(stateDir);
    expect(state?.pid).not.toBe(stale.pid);
    expect(await driver.isHealthy(pod)).toBe(true);
    expect((await ensureSimServer(stateDir)).pid).toBe(state!.pid);

    await stopSimServer(stateDir);
    expect(isProcessAlive(state!.pid)).toBe(false);
    expect(await readSimServerState(stateDir)).toBeUndefined();
    expect(await driver.isHealthy(pod)).toBe(false);
    expect(await driver.listPods()).toEqual([]);
    await driver.close();
  });

  it('in an installed image (core/ without load-tests/), creating a pod fails with one clear error', async () => {
    // The layout the control-plane image ships: core/ and the agent, not the test tooling.
    const image = await mkdtemp(join(tmpdir(), 'ventus-sim-image-'));
    extraDirs.push(image);
    const repo = (dir: string): string => fileURLToPath(new URL(`../../${dir}`, import.meta.url));
    await cp(repo('core'), join(image, 'core'), { recursive: true });
    await cp(repo('runtime-image/agent'), join(image, 'runtime-image/agent'), { recursive: true });
    await symlink(repo('node_modules'), join(image, 'node_modules'));
    await writeFile(join(image, 'package.json'), '{ "type": "module" }');
    await writeFile(
      join(image, 'create-pod.ts'),
      `import { SimDriver } from './core/runtime/sim/sim.driver.ts';
const driver = new SimDriver({ stateDir: process.argv[2]! });
await driver
  .createPod({ id: 'image-pod', pool: 'sim', headless: true })
  .then(() => console.log('created'), (err: Error) => console.log(err.message));
await driver.close();
`,
    );
    const stateDir = join(image, 'sim');
    const child = spawn(process.execPath, ['--import', 'tsx', 'create-pod.ts', stateDir], {
      cwd: image,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(out).toMatch(/the sim runtime \(VENTUS_DRIVER=sim\) is a test and load-test tool, not shipped/);
    expect(out).toContain(join(image, 'load-tests/sim-runtime/main.ts'));
    // Nothing was started nor half-started.
    expect(existsSync(join(stateDir, 'server.json'))).toBe(false);
    expect(existsSync(join(stateDir, 'server.log'))).toBe(false);
  });

  it('a server whose data dir is wiped stops on its own', async () => {
    const stateDir = await freshStateDir(extraDirs);
    const { pid } = await ensureSimServer(stateDir);
    await rm(stateDir, { recursive: true, force: true });
    expect(await eventually(() => !isProcessAlive(pid), 10_000)).toBe(true);
  });
});
