/** Small helpers for the agent's child processes (Xvfb, Chromium). */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export function hasExited(child: ChildProcess): boolean {
  // No pid means spawn itself failed (ENOENT...): there is nothing to wait for.
  return child.pid === undefined || child.exitCode !== null || child.signalCode !== null;
}

/** Resolves when `child` has exited (immediately if it already has). */
export async function exited(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  await once(child, 'exit');
}

function kill(child: ChildProcess, sig: NodeJS.Signals, group: boolean): void {
  try {
    if (group && child.pid !== undefined) process.kill(-child.pid, sig);
    else child.kill(sig);
  } catch {
    // ESRCH: already gone.
  }
}

/**
 * Whether a process of group `pgid` is still alive (a zombie is not: it has let go of everything).
 * From /proc; without it, whether the group has any member at all.
 */
function groupAlive(pgid: number): boolean {
  let pids: string[];
  try {
    pids = readdirSync('/proc');
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const pid of pids) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses, so parse after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

/** How long stopChild waits for a SIGKILLed group to be gone. */
const GROUP_GONE_MS = 2_000;

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. With `group`, signals
 * the child's whole process group (it must have been spawned `detached`), which reaches past a
 * wrapper script and mops up helpers that outlive their parent by a few milliseconds, and resolves
 * only once no process of the group is left (a SIGKILLed process takes a moment to die: whoever
 * looks right after must not find it, nor find it still writing in a directory being removed).
 */
export async function stopChild(child: ChildProcess, graceMs: number, group = false): Promise<void> {
  if (!hasExited(child)) {
    kill(child, 'SIGTERM', group);
    const done = exited(child);
    const timer = sleep(graceMs, 'timeout' as const);
    if ((await Promise.race([done.then(() => 'exited' as const), timer])) === 'timeout') {
      kill(child, 'SIGKILL', group);
      await done;
    }
  }
  if (group && child.pid !== undefined) {
    kill(child, 'SIGKILL', true);
    const deadline = Date.now() + GROUP_GONE_MS;
    while (groupAlive(child.pid) && Date.now() < deadline) await sleep(5);
  }
}

/** Keeps the last `max` lines of a stream, for error messages when a child fails. */
export class LineTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly max = 20) {}

  push(chunk: Buffer | string): string[] {
    const parts = (this.partial + chunk.toString()).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
    }
    return parts;
  }

  toString(): string {
    return [...this.lines, this.partial].filter(Boolean).join('\n');
  }
}
