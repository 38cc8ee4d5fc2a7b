/**
 * Where a benchmark's CPU went, by who used it: the pods, the service (this process: the scratch
 * stack runs in it), Postgres, Redis, the load generator, and the rest of the machine.
 *
 * What this process started (pods, the load generator) is best counted by a cgroup of its own
 * (cpu-group.ts, as root): its usage counts every process born in it, dead or alive, orphans
 * included. Without one, from /proc: a process's total is its own CPU plus what the children it
 * reaped used (cutime and cstime), which counts processes that came and went only where their parent
 * outlived them to reap them; a pod killed at once leaves its orphans to init, so this is a lower
 * bound. Postgres and Redis are counted from /proc (a backend is reaped by the postmaster). The load
 * generator reports its own CPU (`ventus load --json`), which is taken out of the children's.
 */
import { listPids, readProcStat, type ProcStat } from '../../core/process/proc-stat.ts';
import type { CpuGroup } from './cpu-group.ts';
import { busySeconds } from './machine-cpu.ts';

export interface CpuSnapshot {
  /** Busy CPU-seconds of the whole machine since boot. */
  machine: number;
  /** This process's own CPU. */
  service: number;
  /** Everything this process started (pods, load generators), those that ended included. */
  children: number;
  postgres: number;
  redis: number;
}

export interface CpuShares {
  pods: number;
  service: number;
  postgres: number;
  redis: number;
  loadGenerator: number;
  /** The machine's busy time nobody above accounts for: the kernel, other programs, orphans. */
  other: number;
  machine: number;
}

const isPostgres = (s: ProcStat) => s.comm === 'postgres' || s.comm === 'postmaster';
const isRedis = (s: ProcStat) => s.comm.startsWith('redis-server');

/** The CPU used so far; `group` holds this process and what it started, when there is one. */
export function cpuSnapshot(group?: CpuGroup): CpuSnapshot {
  const stats = new Map<number, ProcStat>();
  for (const pid of listPids()) {
    const stat = readProcStat(pid);
    if (stat) stats.set(pid, stat);
  }
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  const treeTotal = (root: number): number => {
    const s = stats.get(root);
    if (!s) return 0;
    const below = (children.get(root) ?? []).reduce((sum, child) => sum + treeTotal(child), 0);
    return s.cpuSeconds + s.reapedChildrenCpuSeconds + below;
  };
  const sum = (roots: number[]) => roots.reduce((total, pid) => total + treeTotal(pid), 0);
  // A database's top process: the first of its kind down from its parent.
  const tops = (is: (s: ProcStat) => boolean) =>
    [...stats].filter(([, s]) => is(s) && !(stats.get(s.ppid) && is(stats.get(s.ppid)!))).map(([pid]) => pid);
  const self = stats.get(process.pid)!;
  const started = (children.get(process.pid) ?? []).filter((pid) => {
    const s = stats.get(pid)!;
    return !isPostgres(s) && !isRedis(s);
  });
  return {
    machine: busySeconds(),
    service: self.cpuSeconds,
    children: group ? group.usageUs() / 1e6 - self.cpuSeconds : sum(started) + self.reapedChildrenCpuSeconds,
    postgres: sum(tops(isPostgres)),
    redis: sum(tops(isRedis)),
  };
}

/** The CPU used between two snapshots, by who used it; `loadGenerator` as it reported itself. */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot, loadGenerator = 0): CpuShares {
  const pods = b.children - a.children - loadGenerator;
  const service = b.service - a.service;
  const postgres = b.postgres - a.postgres;
  const redis = b.redis - a.redis;
  const machine = b.machine - a.machine;
  const other = machine - pods - service - postgres - redis - loadGenerator;
  return { pods, service, postgres, redis, loadGenerator, other, machine };
}

export const CPU_PARTS = ['pods', 'service', 'postgres', 'redis', 'loadGenerator', 'other'] as const;
