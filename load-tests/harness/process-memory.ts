/**
 * Memory of a process tree, as Linux accounts it, from /proc/<pid>/smaps_rollup:
 * - PSS (proportional set size): each shared page split among the processes mapping it, so the sum
 *   over a tree is its share of what is resident. It falls as more processes share the same binaries.
 * - USS (unique set size: private clean + private dirty): the pages only this process maps, what one
 *   more of it adds to a machine that already runs one.
 * Reading another user's processes needs root (or the same user).
 */
import { readFileSync } from 'node:fs';
import { processTree } from '../../core/process/proc-stat.ts';

export interface Memory {
  pss: number;
  uss: number;
}

function field(rollup: string, name: string): number {
  return Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
}

/** PSS and USS of one process in KiB (0 when it is gone or unreadable), and its command name. */
export function memoryOf(pid: number): Memory & { name: string } {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const uss = field(rollup, 'Private_Clean') + field(rollup, 'Private_Dirty');
    return { pss: field(rollup, 'Pss'), uss, name };
  } catch {
    return { pss: 0, uss: 0, name: '?' };
  }
}

/** PSS and USS of the whole tree under `root`, in MiB, in all and by command name. */
export function treeMemory(root: number): Memory & { byName: Record<string, Memory> } {
  const byName: Record<string, Memory> = {};
  const total = { pss: 0, uss: 0 };
  for (const pid of processTree(root)) {
    const { pss, uss, name } = memoryOf(pid);
    const entry = (byName[name] ??= { pss: 0, uss: 0 });
    entry.pss += pss / 1024;
    entry.uss += uss / 1024;
    total.pss += pss / 1024;
    total.uss += uss / 1024;
  }
  return { ...total, byName };
}
