/**
 * Memory of a process tree, as Linux accounts it: PSS (proportional set size: each shared page split
 * among the processes mapping it, so the sum over a tree is what the tree costs), from
 * /proc/<pid>/smaps_rollup. Reading another user's processes needs root (or the same user).
 */
import { readFileSync } from 'node:fs';
import { processTree } from '../../core/process/proc-stat.ts';

/** PSS of one process in KiB (0 when it is gone or unreadable), and its command name. */
export function pssOf(pid: number): { kib: number; name: string } {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return { kib: Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0), name };
  } catch {
    return { kib: 0, name: '?' };
  }
}

/** PSS of the whole tree under `root`, in MiB, in all and by command name. */
export function treePss(root: number): { totalMiB: number; byName: Record<string, number> } {
  const byName: Record<string, number> = {};
  let total = 0;
  for (const pid of processTree(root)) {
    const { kib, name } = pssOf(pid);
    total += kib;
    byName[name] = (byName[name] ?? 0) + kib / 1024;
  }
  return { totalMiB: total / 1024, byName };
}
