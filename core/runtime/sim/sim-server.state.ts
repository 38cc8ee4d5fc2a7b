/**
 * How processes find the one sim runtime server of a data dir: `<stateDir>/server.json` (written by
 * the server once it listens, removed when it stops) and `<stateDir>/server.lock` (held by whoever
 * is starting one, so two processes never start two servers at once).
 */
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeadState, readProcStat } from '../../process/proc-stat.ts';

export interface SimServerState {
  pid: number;
  host: string;
  port: number;
  startedAt: string;
}

export const simServerFiles = (stateDir: string) => ({
  state: join(stateDir, 'server.json'),
  lock: join(stateDir, 'server.lock'),
  log: join(stateDir, 'server.log'),
});

/** A lock whose holder shows no sign of life for this long is debris of a crashed starter. */
const STALE_LOCK_MS = 60_000;

function isServerState(value: unknown): value is SimServerState {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  return (
    Number.isInteger(s.pid) &&
    typeof s.host === 'string' &&
    Number.isInteger(s.port) &&
    typeof s.startedAt === 'string'
  );
}

export async function readSimServerState(stateDir: string): Promise<SimServerState | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(simServerFiles(stateDir).state, 'utf8'));
    return isServerState(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Atomic (temp file + rename): a reader never sees half a record. */
export async function writeSimServerState(stateDir: string, state: SimServerState): Promise<void> {
  const file = simServerFiles(stateDir).state;
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2));
  await rename(tmp, file);
}

/** Removes the state file if it still names `pid` (a newer server's record is left alone). */
export async function removeSimServerState(stateDir: string, pid: number): Promise<void> {
  if ((await readSimServerState(stateDir))?.pid === pid)
    await rm(simServerFiles(stateDir).state, { force: true });
}

/** Whether `pid` runs. A zombie does not (its parent may be an init that never reaps). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = readProcStat(pid);
  return stat === undefined || !isDeadState(stat); // no /proc (not Linux): kill(0) is all we know
}

/**
 * Takes the start lock (an O_EXCL create holding our pid). Returns its release function, or
 * undefined when another live process holds it. A lock left by a dead process, or older than
 * STALE_LOCK_MS, is broken first.
 */
export async function tryStartLock(stateDir: string): Promise<(() => Promise<void>) | undefined> {
  const { lock } = simServerFiles(stateDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lock, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (attempt > 0 || !(await isLockStale(lock))) return undefined;
    await rm(lock, { force: true });
  }
  return undefined;
}

async function isLockStale(lock: string): Promise<boolean> {
  const [content, info] = await Promise.all([
    readFile(lock, 'utf8').catch(() => ''),
    stat(lock).catch(() => undefined),
  ]);
  if (!info) return false; // released meanwhile: just try again later
  const holder = Number(content);
  // An empty file is a holder between its create and its write: alive unless it stays that way.
  if (Number.isInteger(holder) && holder > 0 && !isProcessAlive(holder)) return true;
  return Date.now() - info.mtimeMs > STALE_LOCK_MS;
}
