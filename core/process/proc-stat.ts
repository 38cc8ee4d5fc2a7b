/**
 * What Linux says of a process in /proc/<pid>/stat: its state, parent and process group. One home
 * for reading it, used by the local driver, the pod agent, the load harness and the tests.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcStat {
  /** The executable's name as the kernel keeps it (at most 15 characters). */
  comm: string;
  /** One letter: R, S, D, Z (zombie), X (dead), … */
  state: string;
  ppid: number;
  pgid: number;
  /** CPU the process has used, user and system, in seconds. */
  cpuSeconds: number;
  /** CPU its children used, added when this process reaped them (waited for them), in seconds. */
  reapedChildrenCpuSeconds: number;
  /** Its niceness, -20 (first served) to 19 (last). */
  nice: number;
  /** When it started, in ticks since boot: with the pid, names one process (pids are reused). */
  startTicks: number;
}

/** /proc counts CPU time in USER_HZ ticks, 100 a second on every Linux. */
const TICKS_PER_SECOND = 100;

/** The process's stat, or undefined when it is gone (or there is no /proc). */
export function readProcStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses, so parse after the last ')'.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    const ticks = (from: number) => (Number(fields[from]) + Number(fields[from + 1])) / TICKS_PER_SECOND;
    return {
      comm: stat.slice(stat.indexOf('(') + 1, close),
      state: fields[0] ?? '',
      ppid: Number(fields[1]),
      pgid: Number(fields[2]),
      cpuSeconds: ticks(11), // utime, stime
      reapedChildrenCpuSeconds: ticks(13), // cutime, cstime
      nice: Number(fields[16]),
      startTicks: Number(fields[19]),
    };
  } catch {
    return undefined;
  }
}

/** A zombie (exited, not yet reaped) or a process on its way out: it runs no more. */
export const isDeadState = (stat: ProcStat): boolean => stat.state === 'Z' || stat.state === 'X';

/** Whether `pid` is gone or only a zombie (a zombie's parent may be an init that never reaps). */
export function isGoneOrZombie(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat === undefined || isDeadState(stat);
}

/** Every pid in /proc now. */
export function listPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** `root` first, then every process below it (breadth first), as /proc shows them now. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of listPids()) {
    const parent = readProcStat(pid)?.ppid;
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}
