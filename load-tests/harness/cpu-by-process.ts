/**
 * Where a benchmark's CPU went, by who used it: the pods, the service (this process: the scratch
 * stack runs in it), Postgres, Redis, the load generator, and the rest of the machine.
 *
 * From /proc. A process's total is its own CPU plus what the children it reaped used (cutime and
 * cstime), so processes that came and went within the window count too: a pod's Chromium helpers are
 * reaped inside the pod's tree, a pod by this process (the local driver spawns it), a Postgres
 * backend by the postmaster. The load generator is this process's child as well; it reports its
 * own CPU (`ventus load --json`), which is taken out of what this process reaped.
 */
import { listPids, readProcStat, type ProcStat } from '../../core/process/proc-stat.ts';
import { busySeconds } from './machine-cpu.ts';

export interface CpuSnapshot {
  /** Busy CPU-seconds of the whole machine since boot. */
  machine: number;
  /** This process's own CPU. */
  service: number;
  /** What the children this process has reaped used (pods that ended, load generators that exited). */
  serviceReaped: number;
  /** Every live child tree of this process except the databases: its pods. */
  pods: number;
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

export function cpuSnapshot(): CpuSnapshot {
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
  const pods = (children.get(process.pid) ?? []).filter((pid) => {
    const s = stats.get(pid)!;
    return !isPostgres(s) && !isRedis(s);
  });
  return {
    machine: busySeconds(),
    service: self.cpuSeconds,
    serviceReaped: self.reapedChildrenCpuSeconds,
    pods: sum(pods),
    postgres: sum(tops(isPostgres)),
    redis: sum(tops(isRedis)),
  };
}

/** The CPU used between two snapshots, by who used it; `loadGenerator` as it reported itself. */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot, loadGenerator = 0): CpuShares {
  const pods = b.pods - a.pods + (b.serviceReaped - a.serviceReaped) - loadGenerator;
  const service = b.service - a.service;
  const postgres = b.postgres - a.postgres;
  const redis = b.redis - a.redis;
  const machine = b.machine - a.machine;
  const other = machine - pods - service - postgres - redis - loadGenerator;
  return { pods, service, postgres, redis, loadGenerator, other, machine };
}

export const CPU_PARTS = ['pods', 'service', 'postgres', 'redis', 'loadGenerator', 'other'] as const;
