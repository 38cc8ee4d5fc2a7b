/**
 * Finding and stopping the processes of one local pod.
 *
 * Every process of a pod (agent, Xvfb, Chromium and its zygotes and renderers) inherits one
 * environment variable, `VENTUS_POD_DIR=<pod dir>`, set by the driver on the agent. Matching on it
 * instead of trusting a stored pid or process group protects against pid reuse: after a restart the
 * recorded pid may belong to an unrelated process (even another pod's agent), and signalling its
 * group would kill the wrong thing. Linux only (/proc); elsewhere we fall back to the plain pid.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeadState, readProcStat } from '../process/proc-stat.ts';

export const POD_MARKER_VAR = 'VENTUS_POD_DIR';

const hasProc = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

interface ProcStat {
  pgid: number;
  zombie: boolean;
  startTicks: number;
}

function readStat(pid: number): ProcStat | undefined {
  const stat = readProcStat(pid);
  return stat && { pgid: stat.pgid, zombie: isDeadState(stat), startTicks: stat.startTicks };
}

/**
 * Processes seen without the marker, as pid -> start time, while one pod is stopped: its stop scans
 * /proc every 25 ms, and reading every process's environ each time was most of deletePod's CPU. A
 * process's inherited environment does not change while it runs, and a process that joins the pod
 * during its stop is born marked (forked from a pod process, or in one of its groups).
 */
type UnmarkedCache = Map<number, number>;

function markedOrInGroups(
  pid: number,
  stat: ProcStat,
  marker: string,
  pgids: Set<number>,
  unmarked?: UnmarkedCache,
): boolean {
  if (pgids.has(stat.pgid)) return true;
  if (unmarked?.get(pid) === stat.startTicks) return false;
  if (hasMarker(pid, marker)) return true;
  unmarked?.set(pid, stat.startTicks);
  return false;
}

function hasMarker(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker);
  } catch {
    return false;
  }
}

function markerOf(podDir: string): string {
  return `${POD_MARKER_VAR}=${podDir}`;
}

/** Whether `pid` is a live (not zombie) process of the pod in `podDir`. */
export function isPodProcessAlive(pid: number, podDir: string): boolean {
  if (!hasProc) {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  const stat = readStat(pid);
  return stat !== undefined && !stat.zombie && hasMarker(pid, markerOf(podDir));
}

function scanProc(): { pid: number; stat: ProcStat }[] {
  const found: { pid: number; stat: ProcStat }[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readStat(pid);
    if (stat && !stat.zombie) found.push({ pid, stat });
  }
  return found;
}

/** Live processes of the pod in `podDir` that still carry the marker, with their process groups. */
export function findPodProcesses(podDir: string): { pid: number; pgid: number }[] {
  if (!hasProc) return [];
  const marker = markerOf(podDir);
  return scanProc()
    .filter(({ pid }) => hasMarker(pid, marker))
    .map(({ pid, stat }) => ({ pid, pgid: stat.pgid }));
}

/**
 * Live processes in any of `pgids` or carrying the pod's marker. Chromium's helpers (zygotes,
 * renderers, GPU) rewrite their argv/environ area to set their process title, so the marker is lost
 * for them: they are found through the process group of a marked ancestor instead. A pgid cannot be
 * reused while any process of that group lives, so a group seen with a marked member stays ours.
 */
function remaining(
  podDir: string,
  pgids: Set<number>,
  unmarked?: UnmarkedCache,
): { pid: number; pgid: number }[] {
  const marker = markerOf(podDir);
  return scanProc()
    .filter(({ pid, stat }) => markedOrInGroups(pid, stat, marker, pgids, unmarked))
    .map(({ pid, stat }) => ({ pid, pgid: stat.pgid }));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone, which is what we want.
  }
}

async function waitUntilGone(
  podDir: string,
  pgids: Set<number>,
  timeoutMs: number,
  unmarked: UnmarkedCache,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (remaining(podDir, pgids, unmarked).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
}

/**
 * Stops every process of a pod: SIGTERM to their process groups (the agent cleans up and exits),
 * then SIGKILL whatever is left after `graceMs`; with `graceMs` 0, SIGKILL at once. Resolves once
 * none remains (or after a last wait). `leaderPid` is only used where /proc is unavailable.
 */
export async function stopPodProcesses(
  podDir: string,
  leaderPid: number | undefined,
  graceMs: number,
): Promise<void> {
  if (!hasProc) {
    if (leaderPid === undefined) return;
    if (graceMs > 0) {
      signal(-leaderPid, 'SIGTERM');
      await sleep(graceMs);
    }
    signal(-leaderPid, 'SIGKILL');
    return;
  }
  const unmarked: UnmarkedCache = new Map();
  const pgids = new Set(remaining(podDir, new Set(), unmarked).map((p) => p.pgid));
  if (pgids.size === 0) return;
  // Group-wide signals also reach children forked between our scan and the kill.
  if (graceMs > 0) {
    for (const pgid of pgids) signal(-pgid, 'SIGTERM');
    if (await waitUntilGone(podDir, pgids, graceMs, unmarked)) return;
  }
  for (const { pid, pgid } of remaining(podDir, pgids, unmarked)) {
    pgids.add(pgid);
    signal(-pgid, 'SIGKILL');
    signal(pid, 'SIGKILL');
  }
  await waitUntilGone(podDir, pgids, 2_000, unmarked);
}

/** Every live process of the pod (marked, or in a marked process's group): for tests and diagnostics. */
export function podProcessTree(podDir: string): { pid: number; pgid: number }[] {
  if (!hasProc) return [];
  return remaining(podDir, new Set(findPodProcesses(podDir).map((p) => p.pgid)));
}
