/**
 * The CPU of everything a benchmark starts, however it ends: the benchmark moves itself into a
 * cgroup v2 of its own; every process it starts is born there and stays there when orphaned
 * (bubblewrap's monitor dies on SIGTERM, leaving its sandbox to be reaped by init, so the rusage of
 * reaped children, /proc/self/stat's cutime, misses whole pods), and the cgroup's `cpu.stat`
 * usage_usec counts them all, dead or alive. Needs root (or a delegated cgroup).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isGoneOrZombie } from '../../core/process/proc-stat.ts';

export class CpuGroup {
  private readonly kept = new Set<number>();

  private constructor(
    private readonly dir: string,
    private readonly home: string,
  ) {}

  /**
   * A cgroup v2 named `<prefix>-<random>` with this process in it, or undefined where none can be
   * made (not root, no cgroup v2).
   */
  static open(prefix: string): CpuGroup | undefined {
    const own = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'))
      ?.slice(3);
    for (const mount of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
      try {
        readFileSync(path.join(mount, 'cgroup.procs'));
        const dir = path.join(mount, `${prefix}-${randomBytes(4).toString('hex')}`);
        mkdirSync(dir);
        writeFileSync(path.join(dir, 'cgroup.procs'), String(process.pid));
        return new CpuGroup(dir, path.join(mount, own ?? '/'));
      } catch {
        // not a writable cgroup v2 hierarchy
      }
    }
    return undefined;
  }

  usageUs(): number {
    const line = readFileSync(path.join(this.dir, 'cpu.stat'), 'utf8').match(/^usage_usec (\d+)/m);
    return Number(line?.[1]);
  }

  /**
   * The group's CPU (µs) minus this process's own (process.cpuUsage(), user + system): what the
   * processes it started used, dead or alive.
   */
  childrenUs(): number {
    const usage = this.usageUs();
    const { user, system } = process.cpuUsage();
    return usage - (user + system);
  }

  private procs(): number[] {
    return readFileSync(path.join(this.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  }

  /** Processes of the group now: the helpers that live as long as this process (tsx's esbuild). */
  keep(): void {
    for (const pid of this.procs()) this.kept.add(pid);
  }

  /**
   * Waits until no process is left in the group but this one and the kept helpers (a zombie has
   * used all its CPU already).
   */
  async drain(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = this.procs().filter((pid) => !this.kept.has(pid) && !isGoneOrZombie(pid));
      if (left.length === 0) return;
      if (Date.now() > deadline) {
        const what = (pid: number) =>
          `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 200)}`;
        throw new Error(`processes left in the cgroup:\n${left.map(what).join('\n')}`);
      }
      await sleep(10);
    }
  }

  /** Moves every process back (zombies leave as they are reaped), then removes the group. */
  async close(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      for (const pid of this.procs()) {
        try {
          writeFileSync(path.join(this.home, 'cgroup.procs'), String(pid));
        } catch {
          // gone, or a zombie
        }
      }
      try {
        rmdirSync(this.dir);
        return;
      } catch (err) {
        if (attempt >= 50) throw err;
        await sleep(100);
      }
    }
  }
}
