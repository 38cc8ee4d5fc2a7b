/**
 * Every TCP port listening on the host's loopback or any address (/proc/net/tcp and tcp6), with the
 * process that owns it. The attack sprays these, minus what this test run must leave alone: sockets of
 * processes that are not this run's (other people's test runs and daemons on a shared machine, or no
 * visible owner at all, like the sandbox machinery). The project's shared services, Postgres and
 * Redis, stay in.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { readProcStat } from '../../../core/process/proc-stat.ts';

export interface ListeningPort {
  port: number;
  /** The owning process, when visible. */
  pid?: number;
  command?: string;
}

const LISTEN = '0A';
// 127.0.0.1, 0.0.0.0 (IPv4); ::, ::1 and ::ffff:127.0.0.1 / ::ffff:0.0.0.0 (IPv6, as /proc prints them).
const REACHABLE_V4 = new Set(['0100007F', '00000000']);
const REACHABLE_V6 = new Set([
  '00000000000000000000000000000000',
  '00000000000000000000000001000000',
  '0000000000000000FFFF00000100007F',
  '0000000000000000FFFF000000000000',
]);
/** The project's own services that a page must not reach either (by executable name). */
const SHARED_SERVICES = /(^|\/)(postgres|redis-server)(\s|$)/;

function listeningSockets(): Map<string, number> {
  const byInode = new Map<string, number>();
  for (const [file, reachable] of [
    ['/proc/net/tcp', REACHABLE_V4],
    ['/proc/net/tcp6', REACHABLE_V6],
  ] as const) {
    let lines: string[];
    try {
      lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      const [address, portHex] = (fields[1] ?? '').split(':');
      if (fields[3] !== LISTEN || !reachable.has(address ?? '')) continue;
      byInode.set(fields[9] ?? '', parseInt(portHex ?? '0', 16));
    }
  }
  return byInode;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** Whether `pid` is this process or one of its descendants (pods, Chromium, the test's servers). */
function isOurs(pid: number): boolean {
  for (
    let p: number | undefined = pid, hops = 0;
    p && p > 1 && hops < 64;
    p = readProcStat(p)?.ppid, hops++
  ) {
    if (p === process.pid) return true;
  }
  return false;
}

/** Socket inode → owning pid, from every visible process's fds. */
function socketOwners(inodes: Set<string>): Map<string, number> {
  const owners = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (m && inodes.has(m[1]!) && !owners.has(m[1]!)) owners.set(m[1]!, Number(entry));
      } catch {
        // closed while we looked
      }
    }
  }
  return owners;
}

export interface PortScan {
  /** What the attack sprays. */
  targets: ListeningPort[];
  /** Left alone: not this run's, with the reason (for the table). */
  skipped: { port: number; why: string }[];
}

/** The ports to attack now; `exclude` names the test's own instruments (attacker proxy, canary). */
export function scanListeningPorts(exclude: number[] = []): PortScan {
  const sockets = listeningSockets();
  const owners = socketOwners(new Set(sockets.keys()));
  const targets = new Map<number, ListeningPort>();
  const skipped = new Map<number, string>();
  for (const [inode, port] of sockets) {
    if (exclude.includes(port) || targets.has(port)) continue;
    const pid = owners.get(inode);
    if (pid === undefined) {
      skipped.set(port, 'no visible owner (not this project)');
      continue;
    }
    const command = commandOf(pid);
    if (isOurs(pid) || SHARED_SERVICES.test(command)) {
      targets.set(port, { port, pid, command });
      skipped.delete(port);
    } else skipped.set(port, `another user's process (${command.split(' ')[0] ?? '?'})`);
  }
  return {
    targets: [...targets.values()].sort((a, b) => a.port - b.port),
    skipped: [...skipped].map(([port, why]) => ({ port, why })).sort((a, b) => a.port - b.port),
  };
}
