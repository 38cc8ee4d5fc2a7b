/**
 * The local driver: the conformance suite (headless) plus what is specific to local pods and their
 * agent (on-disk record, agent HTTP surface, signals).
 */
import { testLocalDriver } from '../support/local-driver.ts';
import { spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../core/runtime/driver.ts';
import { resolveChromium } from '../../core/runtime/local.driver.ts';
import { podAgentBundle } from '../../core/runtime/pod-agent-bundle.ts';
import { DEFAULT_POD_NICENESS, IN_POD, podUidOf } from '../../core/runtime/local-sandbox.ts';
import { agentRequest } from '../../core/runtime/agent.client.ts';
import {
  AGENT_SECRET_ENV,
  AGENT_SECRET_HEADER,
  agentControlUrl,
} from '../../runtime-image/agent/protocol.ts';
import { testAgentAccess } from '../support/agent-access.ts';
import { unixGet } from '../support/unix-http.ts';
import { POD_MARKER_VAR, podProcessTree } from '../../core/runtime/pod-processes.util.ts';
import { readProcStat } from '../../core/process/proc-stat.ts';
import { loadConfig } from '../../core/config/config.ts';
import { describeDriverConformance, eventually, podId } from './driver.conformance.ts';
import { RawCdp, connectToPod } from './raw-cdp.client.ts';
import { browserPid, localHarness, podProcesses, type LocalHarness } from './local.harness.ts';

describeDriverConformance('local, headless', () => localHarness(true));
// Headful conformance is in local-headful.driver.test.ts: a separate file runs in a parallel fork.

/** A pod's agent (its Node process); its `/proc/<pid>/root` is the pod's filesystem as the pod sees it. */
function agentOf(podDir: string): { pid: number } {
  const agent = podProcessTree(podDir).find(({ pid }) =>
    readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.endsWith('node'),
  );
  expect(agent, `the agent of ${podDir}`).toBeDefined();
  return agent!;
}

function localtimeLinksIntoUsr(): boolean {
  const host = lstatSync('/etc/localtime', { throwIfNoEntry: false });
  return !!host?.isSymbolicLink() && realpathSync('/etc/localtime').startsWith('/usr/');
}

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

  it('records the pod in <stateDir>/<id>/pod.json; its own directory is private to it', () => {
    const dir = h.podDir(pod.id);
    const root = h.driver.rootOf(pod.id);
    const record = JSON.parse(readFileSync(join(dir, 'pod.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toEqual({
      id: pod.id,
      pool: 'p1',
      pid: expect.any(Number) as number,
      socket: join(root, 'run', 'agent.sock'),
      root,
      createdAt: pod.createdAt.toISOString(),
      headless: true,
    });
    expect(existsSync(join(root, 'user-data', 'Default'))).toBe(true);
    expect(pod.controlUrl).toBe(agentControlUrl({ socketPath: join(root, 'run', 'agent.sock') }));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(root).mode & 0o777).toBe(0o700);
    // As root each pod runs as a uid of its own; as a user, as that user in its own namespaces.
    expect(statSync(root).uid).toBe(process.getuid?.() === 0 ? podUidOf(pod.id) : process.getuid?.());
  });

  it('opens only for its own secret, never for a browser (Origin), and relays only its browser', async () => {
    const health = await agentRequest(testAgentAccess, pod, '/healthz', { timeoutMs: 5_000 });
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, networkWarm: expect.any(Boolean) as boolean });
    const socketPath = join(h.driver.rootOf(pod.id), 'run', 'agent.sock');
    const other = testAgentAccess.secretFor('another-pod');
    const mine = testAgentAccess.secretFor(pod.id);
    for (const [headers, status] of [
      [{}, 401],
      [{ [AGENT_SECRET_HEADER]: other }, 401],
      [{ [AGENT_SECRET_HEADER]: mine.slice(0, -1) }, 401],
      [{ [AGENT_SECRET_HEADER]: mine, origin: 'https://attacker.test' }, 403],
      [{ [AGENT_SECRET_HEADER]: mine, origin: 'null' }, 403],
    ] as const) {
      for (const path of ['/healthz', '/storage-state', '/json/version'])
        expect(await unixGet(socketPath, path, headers), `${path} ${JSON.stringify(headers)}`).toBe(status);
      await expect(
        RawCdp.connect(`ws+unix://${socketPath}:/devtools/browser`, headers as Record<string, string>),
      ).rejects.toThrow(new RegExp(String(status)));
    }

    const version = await (
      await agentRequest(testAgentAccess, pod, '/json/version', { timeoutMs: 5_000 })
    ).json<Record<string, string>>();
    expect(version.Browser).toMatch(/Chrome/);
    // Any browser path reaches the one browser the agent launched; nothing else is relayed.
    const headers = testAgentAccess.headers(pod.id);
    for (const path of ['/devtools/browser', '/devtools/browser/not-the-real-guid']) {
      const cdp = await RawCdp.connect(`ws+unix://${socketPath}:${path}`, headers);
      expect(await cdp.send('Browser.getVersion')).toHaveProperty('product');
      cdp.close();
    }
    const browserCdp = await connectToPod(pod);
    const { targetInfos } = await browserCdp.send<{ targetInfos: { targetId: string; type: string }[] }>(
      'Target.getTargets',
    );
    browserCdp.close();
    // The agent handed those connections, once checked, to its pod's kernel relay: one process, in
    // the pod's sandbox (runtime-image/agent/kernel.relay.ts).
    const relays = podProcessTree(h.podDir(pod.id)).filter(
      ({ pid }) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === IN_POD.kernelRelay,
    );
    expect(relays).toHaveLength(1);
    const page = targetInfos.find((t) => t.type === 'page')!;
    for (const path of [`/devtools/page/${page.targetId}`, '/nope', '/json/new'])
      await expect(RawCdp.connect(`ws+unix://${socketPath}:${path}`, headers)).rejects.toThrow(/404/);
  });

  it('validates POST /session: 400 for a bad body, 204 no-op for an empty one', async () => {
    await expect(h.driver.configureSession(pod, { viewport: { width: -1, height: 600 } })).rejects.toThrow(
      /400/,
    );
    await expect(h.driver.configureSession(pod, {})).resolves.toBeUndefined();
    const socketPath = join(h.driver.rootOf(pod.id), 'run', 'agent.sock');
    const headers = testAgentAccess.headers(pod.id);
    expect(await unixGet(socketPath, '/session', headers, 'POST')).toBe(204);
    expect(await unixGet(socketPath, '/session', headers, 'POST', '{')).toBe(400);
  });

  it('the claim (the first POST /session) closes every socket opened before it, and only the first', async () => {
    const p = await h.driver.createPod({ id: podId('claim'), pool: 'p1', headless: true });
    try {
      const early = await connectToPod(p);
      const closed = new Promise<void>((resolve) => early.ws.once('close', () => resolve()));
      await h.driver.configureSession(p, {});
      await closed; // cut by the claim
      const late = await connectToPod(p);
      await h.driver.configureSession(p, { viewport: { width: 640, height: 480 } });
      expect(await late.send('Browser.getVersion')).toHaveProperty('product'); // still open
      late.close();
    } finally {
      await h.driver.deletePod(p.id);
    }
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
    // Paths inside the sandbox, where the pod's own directory is /pod.
    expect(environ).toContain('HOME=/pod/home');
    expect(environ).toContain('XDG_CONFIG_HOME=/pod/home/.config');
    // An allow-listed environment: no secret, nothing of the service's.
    expect(environ.filter((v) => /SECRET|DATABASE_URL|REDIS_URL|VENTUS_AGENT|KEY/.test(v))).toEqual([]);
    expect(existsSync(join(h.driver.rootOf(p.id), 'home'))).toBe(true);
    await h.driver.deletePod(p.id);
    expect(existsSync(dir)).toBe(false);
  });

  // Only a host whose /etc/localtime links into /usr (Debian's, this machine's) has a link to keep.
  it.skipIf(!localtimeLinksIntoUsr())(
    "the pod's /etc/localtime is the host's symlink, not a copy (ICU names the zone without a search)",
    () => {
      const agent = agentOf(h.podDir(pod.id));
      // As the pod sees it: /proc/<pid>/root is the sandbox's root.
      const inPod = `/proc/${agent.pid}/root/etc/localtime`;
      expect(lstatSync(inPod).isSymbolicLink()).toBe(true);
      expect(readlinkSync(inPod)).toBe(readlinkSync('/etc/localtime'));
    },
  );

  it("the browser's DevTools bridge is a socket only the pod's own user may open", () => {
    const agent = agentOf(h.podDir(pod.id));
    const socket = statSync(`/proc/${agent.pid}/root/pod/bridge/devtools.sock`);
    expect(socket.isSocket()).toBe(true);
    // Connecting to a unix socket takes write permission on it: only its owner has that.
    expect(socket.mode & 0o022).toBe(0);
    expect(socket.uid).toBe(statSync(`/proc/${agent.pid}`).uid);
  });

  it("every symlink in the pod's /etc points into /usr, which the pod sees read-only", () => {
    const agent = agentOf(h.podDir(pod.id));
    const etc = `/proc/${agent.pid}/root/etc`;
    const links = readdirSync(etc).filter((name) => lstatSync(join(etc, name)).isSymbolicLink());
    // As the pod resolves them: relative to its own /etc.
    const outside = links
      .map((name) => [name, resolve('/etc', readlinkSync(join(etc, name)))] as const)
      .filter(([, target]) => !target.startsWith('/usr/'));
    expect(outside).toEqual([]);
  });

  it('agent alone on SIGTERM: stops the browser, wipes the user-data-dir, exits', async () => {
    const victim = await h.driver.createPod({ id: podId('sigterm'), pool: 'p1', headless: true });
    const dir = h.podDir(victim.id);
    process.kill(agentOf(dir).pid, 'SIGTERM'); // the agent only, not its group or sandbox
    expect(await eventually(() => podProcesses(dir).length === 0, 5_000)).toBe(true);
    expect(existsSync(join(h.driver.rootOf(victim.id), 'user-data'))).toBe(false);
    expect(await h.driver.getPod(victim.id)).toMatchObject({ alive: false });
    await h.driver.deletePod(victim.id);
    expect(existsSync(dir)).toBe(false);
  });

  it('deletePod kills at once: no process of the pod is asked to shut down first', async () => {
    const victim = await h.driver.createPod({ id: podId('kill'), pool: 'p1', headless: true });
    const dir = h.podDir(victim.id);
    // A process of the pod (marked as the driver marks the agent) that notes a SIGTERM, as an
    // orderly shutdown would get one (Chromium's costs the machine CPU on every pod).
    const noted = join(h.stateDir, 'kill-sigterm-noted');
    const helper = spawn('/bin/sh', ['-c', `trap 'touch ${noted}; exit 0' TERM; sleep 60 & wait`], {
      env: { PATH: process.env.PATH, [POD_MARKER_VAR]: dir },
      stdio: 'ignore',
      // A group of its own, as the agent's: deletePod signals whole groups, this runner's must not be one.
      detached: true,
    });
    const exited = new Promise((resolve) => helper.once('exit', resolve));
    expect(await eventually(() => podProcesses(dir).includes(helper.pid!), 5_000)).toBe(true);
    await h.driver.deletePod(victim.id);
    await exited;
    expect(existsSync(noted)).toBe(false);
    expect(podProcesses(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('every process of a pod runs at a lower CPU priority than the service (10 steps nicer)', () => {
    const own = readProcStat(process.pid)!.nice;
    const niceness = podProcessTree(h.podDir(pod.id))
      .map(({ pid }) => readProcStat(pid)?.nice)
      .filter((n) => n !== undefined);
    // bubblewrap (two), the agent, its DevTools bridge, Chromium and its helpers.
    expect(niceness.length).toBeGreaterThanOrEqual(5);
    expect(new Set(niceness)).toEqual(new Set([Math.min(19, own + DEFAULT_POD_NICENESS)]));
  });

  it('VENTUS_KERNEL_RELAY: on unless false, anything but true or false a clear configuration problem', () => {
    expect(loadConfig({}).kernelRelay).toBe(true);
    expect(loadConfig({ VENTUS_KERNEL_RELAY: 'false' }).kernelRelay).toBe(false);
    expect(() => loadConfig({ VENTUS_KERNEL_RELAY: 'off' })).toThrow(
      /VENTUS_KERNEL_RELAY="off": expected true or false/,
    );
  });

  it('VENTUS_POD_NICENESS: 10 unless set, 0 to 19, anything else a clear configuration problem', () => {
    expect(loadConfig({}).podNiceness).toBe(DEFAULT_POD_NICENESS);
    expect(loadConfig({ VENTUS_POD_NICENESS: '0' }).podNiceness).toBe(0);
    for (const bad of ['20', '-1', 'low']) {
      expect(() => loadConfig({ VENTUS_POD_NICENESS: bad })).toThrow(/VENTUS_POD_NICENESS/);
    }
  });

  it('close() aborts a creation in flight and cleans it up (pods already made stay)', async () => {
    const driver = testLocalDriver(h.stateDir);
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
    const agent = spawn(process.execPath, [podAgentBundle(join(h.stateDir, 'bundles'))], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: {
        PATH: process.env.PATH,
        HEADLESS: 'true',
        // Outside any sandbox here, as root: Chromium's own sandbox cannot run as root.
        CHROMIUM_SANDBOX: String(process.getuid?.() !== 0),
        USER_DATA_DIR: join(dir, 'user-data'),
        [AGENT_SECRET_ENV]: testAgentAccess.secretFor('orphan'),
        [POD_MARKER_VAR]: dir,
      },
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
