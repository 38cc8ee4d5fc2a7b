/**
 * The local driver's pod launcher: pods are forked from it, never from the service (a fork of the
 * service blocked its event loop per pod start), it holds none of the service's environment, a
 * launcher that dies fails the creations in flight without leaking them and is started again, and
 * closing the driver stops it but leaves the pods running. Stopping a pod's processes (synchronous
 * /proc scans) happens in the launcher too, and in the service only when the launcher dies. A launch in flight holds the process up.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../core/runtime/driver.ts';
import { isGoneOrZombie, listPids, readProcStat } from '../../core/process/proc-stat.ts';
import { localHarness, openFiles, podProcesses, type LocalHarness } from './local.harness.ts';
import { eventually, podId } from './driver.conformance.ts';
import { testLocalDriver } from '../support/local-driver.ts';
import { runWithPlantedSocket } from '../support/planted-descriptor.ts';

const targets = (pid: number): string[] => openFiles(pid).map((f) => f.target);

const cmdline = (pid: number): string[] =>
  readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

const LAUNCHER_BUNDLE = /pod-launcher-[0-9a-f]{32}\.mjs$/;
/** Far above the descriptors Node marks close-on-exec at its start (fd 3 among them). */
const PLANTED_FD = 200;

/** The launchers this test process started: its live children running a pod-launcher bundle. */
function launchers(): number[] {
  return listPids().filter(
    (pid) =>
      readProcStat(pid)?.ppid === process.pid &&
      !isGoneOrZombie(pid) &&
      cmdline(pid).some((a) => LAUNCHER_BUNDLE.test(a)),
  );
}

describe('pod launcher (local driver)', { timeout: 90_000 }, () => {
  let h: LocalHarness;
  let pod: Pod;

  beforeAll(async () => {
    h = await localHarness(true);
    pod = await h.driver.createPod({ id: podId('launched'), pool: 'p1', headless: true });
  }, 60_000);

  afterAll(async () => {
    await h?.cleanup();
  }, 60_000);

  it("forks pods from the launcher, not from the service's process", () => {
    const { pid } = JSON.parse(readFileSync(join(h.podDir(pod.id), 'pod.json'), 'utf8')) as { pid: number };
    const parent = readProcStat(pid)?.ppid;
    expect(parent).toBeDefined();
    expect(parent).not.toBe(process.pid);
    expect(launchers()).toContain(parent);
    // The launcher runs the bundle beside the agent's, with plain node (no tsx, no service code).
    expect(cmdline(parent!)).toEqual([process.execPath, expect.stringMatching(LAUNCHER_BUNDLE)]);
  });

  it("gives no process of a pod the launcher's channel, nor any socket or pipe of the launcher or the service", () => {
    const [launcher] = launchers();
    const env = readFileSync(`/proc/${launcher}/environ`, 'utf8').split('\0');
    const channelFd = env.find((e) => e.startsWith('NODE_CHANNEL_FD='))?.split('=')[1];
    // Through the channel a pod could have the launcher start any command as the service's user.
    const channel = readlinkSync(`/proc/${launcher}/fd/${channelFd}`);
    expect(channel).toMatch(/^socket:\[\d+\]$/);
    const held = new Set(
      [...targets(launcher!), ...targets(process.pid)].filter((f) => /^(socket|pipe):/.test(f)),
    );
    expect(held).toContain(channel);
    const pids = podProcesses(h.podDir(pod.id));
    expect(pids.length).toBeGreaterThan(3); // bubblewrap, the agent, Chromium and its helpers
    for (const pid of pids) {
      const shared = targets(pid).filter((f) => held.has(f));
      expect(shared, `process ${pid} (${cmdline(pid)[0]})`).toEqual([]);
    }
  });

  it("holds nothing of the service's environment but PATH", () => {
    const [launcher] = launchers();
    expect(launcher).toBeDefined();
    const env = readFileSync(`/proc/${launcher}/environ`, 'utf8').split('\0').filter(Boolean);
    // Node's own IPC plumbing (the channel's fd and format) besides PATH, nothing else.
    const names = env.map((e) => e.split('=')[0]).filter((name) => !/^NODE_CHANNEL_/.test(name!));
    expect(names).toEqual(['PATH']);
  });

  it('fails a creation whose launcher dies, leaves nothing of it, and starts a new launcher', async () => {
    const id = podId('orphaned');
    const creating = h.driver.createPod({ id, pool: 'p1', headless: true });
    const outcome = creating.then(
      () => 'created',
      (err: Error) => err.message,
    );
    // The pod's sandbox exists (launched): freeze it before its agent can be ready, then kill the
    // launcher. The driver must then fail the creation and kill the frozen pod itself.
    expect(await eventually(() => podProcesses(h.podDir(id)).length > 0, 20_000, 2)).toBe(true);
    for (const pid of podProcesses(h.podDir(id))) process.kill(-readProcStat(pid)!.pgid, 'SIGSTOP');
    const [launcher] = launchers();
    process.kill(launcher!, 'SIGKILL');
    expect(await outcome).toMatch(/the pod launcher exited/);
    expect(await h.leftovers(id)).toEqual([]);

    const next = await h.driver.createPod({ id: podId('relaunched'), pool: 'p1', headless: true });
    expect(await h.driver.isHealthy(next)).toBe(true);
    expect(launchers()).toHaveLength(1);
    expect(launchers()).not.toContain(launcher);
  });

  it("stops a pod's processes in the launcher, and in the service should the launcher die meanwhile", async () => {
    const doomed = await h.driver.createPod({ id: podId('stopped'), pool: 'p1', headless: true });
    const [launcher] = launchers();
    process.kill(launcher!, 'SIGSTOP');
    try {
      let settled = false;
      const deleting = h.driver.deletePod(doomed.id).finally(() => (settled = true));
      await sleep(500);
      // The stop waits on the frozen launcher: it is not done in this process.
      expect(settled).toBe(false);
      expect(podProcesses(h.podDir(doomed.id)).length).toBeGreaterThan(0);
      process.kill(launcher!, 'SIGKILL');
      await deleting;
    } finally {
      if (!isGoneOrZombie(launcher!)) process.kill(launcher!, 'SIGKILL');
    }
    expect(await h.leftovers(doomed.id)).toEqual([]);
  });

  it('passes a pod nothing its service inherited, and holds up a process that only awaits a pod', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'ventus-one-pod-'));
    try {
      // fd PLANTED_FD: a socket the script inherits without close-on-exec, as from a careless parent.
      const { code, out, err } = await runWithPlantedSocket(
        new URL('./create-one-pod.script.ts', import.meta.url),
        [stateDir],
        PLANTED_FD,
      );
      // Exit 13 (an unsettled top-level await) when nothing held the event loop during the launch.
      expect(code, err).toBe(0);
      const report = JSON.parse(out) as { inheritable: { fd: number; target: string }[]; leaked: string[] };
      // The planted socket is among what a careless launcher would have passed on…
      const planted = report.inheritable.find((f) => f.fd === PLANTED_FD);
      expect(planted?.target).toMatch(/^socket:\[\d+\]$/);
      // …and no process of the pod holds it, nor anything else the script could have passed.
      expect(report.leaked).toEqual([]);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('stops with the driver, and the pods it started run on', async () => {
    const others = launchers();
    const driver = testLocalDriver(h.stateDir);
    const other = await driver.createPod({ id: podId('outlives'), pool: 'p1', headless: true });
    const [own] = launchers().filter((pid) => !others.includes(pid));
    expect(own).toBeDefined();
    await driver.close();
    expect(await eventually(() => isGoneOrZombie(own!), 10_000)).toBe(true);
    expect(await h.driver.isHealthy(other)).toBe(true);
  });
});
