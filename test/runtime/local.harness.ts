/**
 * Looking behind the local driver's back, for tests: its pods' processes and directories, and a
 * way to kill a pod's browser like a crash would.
 */
import { testLocalDriver } from '../support/local-driver.ts';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../../core/runtime/driver.ts';
import { LocalDriver } from '../../core/runtime/local.driver.ts';
import { podProcessTree } from '../../core/runtime/pod-processes.util.ts';
import { isGoneOrZombie, readProcStat } from '../../core/process/proc-stat.ts';
import type { DriverHarness } from './driver.conformance.ts';

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** What a process's open descriptors point at (`socket:[inode]`, `pipe:[inode]`, paths). */
export function openFiles(pid: number): { fd: number; target: string }[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return []; // gone
  }
  return fds.flatMap((fd) => {
    try {
      return [{ fd: Number(fd), target: readlinkSync(`/proc/${pid}/fd/${fd}`) }];
    } catch {
      return []; // closed meanwhile
    }
  });
}

/**
 * Every live process that belongs to the pod in `podDir`: marked ones and their process groups (what
 * the driver itself tracks) plus, independently, any process whose command line names the pod's
 * directory (Chromium's helpers all carry --user-data-dir), so a driver bug cannot hide one.
 */
export function podProcesses(podDir: string): number[] {
  const pids = new Set(podProcessTree(podDir).map((p) => p.pid));
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid || isGoneOrZombie(pid)) continue;
    if (cmdline(pid).some((arg) => arg.includes(podDir))) pids.add(pid);
  }
  return [...pids].filter((pid) => !isGoneOrZombie(pid));
}

const isChromiumBinary = (args: string[]): boolean =>
  /chrom/i.test(args[0] ?? '') && !/crashpad/i.test(args[0] ?? '');

/**
 * The pod's browser process: a Chromium binary that is not a helper (`--type=`), not the crashpad
 * handler (no --type= either; killing it leaves the browser up) nor a wrapper script, and whose parent
 * is no Chromium: a helper the browser has forked but not yet exec'd carries the browser's own
 * command line, and killing that one leaves the browser up too.
 */
export function browserPid(podDir: string): number | undefined {
  return podProcesses(podDir).find((pid) => {
    const args = cmdline(pid);
    if (!isChromiumBinary(args) || args.some((a) => a.startsWith('--type='))) return false;
    const parent = readProcStat(pid)?.ppid;
    return parent === undefined || !isChromiumBinary(cmdline(parent));
  });
}

export interface LocalHarness extends DriverHarness {
  driver: LocalDriver;
  stateDir: string;
  podDir(podId: string): string;
}

export async function localHarness(headless: boolean): Promise<LocalHarness> {
  const stateDir = await mkdtemp(join(tmpdir(), 'ventus-runtime-test-'));
  const driver = testLocalDriver(stateDir);
  const podDir = (id: string): string => join(stateDir, id);
  return {
    driver,
    headless,
    stateDir,
    podDir,
    reopen: () => testLocalDriver(stateDir),
    async leftovers(id) {
      const left = podProcesses(podDir(id)).map(
        (pid) => `process ${pid}: ${cmdline(pid).slice(0, 2).join(' ')}`,
      );
      if (existsSync(podDir(id))) left.push(`directory ${podDir(id)}`);
      return left;
    },
    async killBrowser(pod: Pod) {
      const pid = browserPid(podDir(pod.id));
      if (pid === undefined) throw new Error(`no browser process found for pod ${pod.id}`);
      process.kill(pid, 'SIGKILL');
    },
    async cleanup() {
      // Every directory, not listPods(): that hides pods still starting.
      for (const id of readdirSync(stateDir)) await driver.deletePod(id);
      await driver.removeSandboxBase();
      await driver.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
