/**
 * Memory of a process tree, as Linux accounts it: PSS (proportional set size: each shared page split
 * among the processes mapping it, so the sum over a tree is what the tree costs), from
 * /proc/<pid>/smaps_rollup. Reading another user's processes needs root (or the same user).
 */
import { readFileSync, readdirSync } from 'node:fs';

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ppid …": comm may hold spaces and parentheses, so parse after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** `root` and every process below it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const parent = parentOf(Number(name));
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), Number(name)]);
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
