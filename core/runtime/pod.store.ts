/**
 * The local driver's on-disk record of its pods: `<stateDir>/<podId>/pod.json`.
 * The directory tree is the only shared state, so any process (or a restarted one) that opens the
 * same stateDir sees the same pods.
 */
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PodRecord {
  id: string;
  pool: string;
  /** Pid of the pod agent, which is also the process group id of the whole pod. */
  pid: number;
  /** The agent's unix socket on the host; empty while the pod is still starting. */
  socket: string;
  /** The pod's own directory on the host (its /pod), deleted with it. */
  root: string;
  createdAt: string;
  headless: boolean;
}

// Pod ids become directory names: keep them to a safe alphabet (no '/', no '..').
const POD_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidPodId(id: string): boolean {
  return POD_ID.test(id);
}

export function podDirOf(stateDir: string, id: string): string {
  if (!isValidPodId(id))
    throw new Error(`invalid pod id ${JSON.stringify(id)}: use [A-Za-z0-9._-], at most 128`);
  return join(stateDir, id);
}

function isPodRecord(value: unknown): value is PodRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.id === 'string' &&
    typeof r.pool === 'string' &&
    typeof r.pid === 'number' &&
    typeof r.socket === 'string' &&
    typeof r.root === 'string' &&
    typeof r.createdAt === 'string' &&
    typeof r.headless === 'boolean'
  );
}

/** The record in `podDir`, or undefined when there is none (or it is unreadable). */
export async function readPodRecord(podDir: string): Promise<PodRecord | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(podDir, 'pod.json'), 'utf8'));
    return isPodRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Writes atomically (temp file + rename) so a concurrent reader never sees half a record. */
export async function writePodRecord(podDir: string, record: PodRecord): Promise<void> {
  const tmp = join(podDir, `.pod.json.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(record, null, 2));
  await rename(tmp, join(podDir, 'pod.json'));
}

/** Ids of every pod directory under `stateDir` (created if missing). */
export async function listPodIds(stateDir: string): Promise<string[]> {
  await mkdir(stateDir, { recursive: true });
  const entries = await readdir(stateDir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && isValidPodId(e.name)).map((e) => e.name);
}
