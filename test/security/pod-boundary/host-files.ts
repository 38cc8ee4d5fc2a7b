/**
 * The host files the attacks try to read, and how to tell that an attempt got them: each target knows
 * a marker only its real content has (its first line or bytes, an entry of a listing, a secret it
 * holds), read by the test itself, which runs with the rights of the service.
 */
import { testLocalDriver } from '../../support/local-driver.ts';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Database } from '../../../core/db/database.ts';
import { redisUrl } from '../../support/env.ts';

export interface HostFile {
  label: string;
  path: string;
  /** text: read through file:// too; dir: a file:// listing; binary: through a file input only. */
  kind: 'text' | 'dir' | 'binary';
  /** What only the real content holds. */
  markers: Buffer[];
}

/** Whether `got` holds any of the target's markers (so the attempt read it). */
export function holdsMarker(target: HostFile, got: Buffer | string | undefined): boolean {
  if (!got || got.length === 0) return false;
  const bytes = typeof got === 'string' ? Buffer.from(got) : got;
  return target.markers.some((m) => m.length > 0 && bytes.includes(m));
}

const head = (file: string, n: number) => readFileSync(file).subarray(0, n);

function textFile(label: string, file: string): HostFile {
  const firstLine = readFileSync(file, 'utf8').split('\n')[0] ?? '';
  return { label, path: file, kind: 'text', markers: [Buffer.from(firstLine)] };
}

function listing(label: string, dir: string, entry: string): HostFile {
  return { label, path: `${dir}/`, kind: 'dir', markers: [Buffer.from(entry)] };
}

/**
 * The targets of issue 15 on this host: /etc/shadow and a listing of the host's /etc; the Postgres data directory (listing,
 * global/pg_control, and the heap file of the stack's `signing_keys` table, which holds the token signing
 * secret); the stack's data directory (listing, its pods, the victim pod's cookie database and
 * profile); the Redis dump when there is one.
 */
export async function hostFiles(db: Database, dataDir: string, victimPodId: string): Promise<HostFile[]> {
  const targets: HostFile[] = [textFile('/etc/shadow', '/etc/shadow')];
  // The pod's /etc holds a few of the host's entries, some now as symlinks into /usr: a listing of it
  // must not show the rest of the host's /etc (debian_version is in none of the pod's).
  if (existsSync('/etc/debian_version'))
    targets.push(listing('host /etc beyond the entries a pod gets', '/etc', 'debian_version'));

  const pgData = (await db.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0]!.d;
  targets.push(listing('Postgres data directory', pgData, 'PG_VERSION'));
  const control = path.join(pgData, 'global', 'pg_control');
  targets.push({
    label: 'Postgres global/pg_control',
    path: control,
    kind: 'binary',
    markers: [head(control, 16)],
  });
  // On disk only after a checkpoint: the page that holds the CDP token signing secret.
  await db.query('CHECKPOINT');
  const heap = path.join(
    pgData,
    (await db.query<{ f: string }>("SELECT pg_relation_filepath('signing_keys') AS f")).rows[0]!.f,
  );
  const secret = (
    await db.query<{ secret: string }>('SELECT secret FROM signing_keys WHERE retired_at IS NULL')
  ).rows[0]!.secret;
  targets.push({
    label: 'Postgres heap of `signing_keys` (the token signing secret)',
    path: heap,
    kind: 'binary',
    markers: [Buffer.from(secret)],
  });

  targets.push(listing('service data directory', dataDir, 'pods'));
  targets.push(listing('service pods directory', path.join(dataDir, 'pods'), victimPodId));
  // The victim pod's own directory (as root it lives outside the data directory, under its own uid).
  const victimRoot = testLocalDriver(path.join(dataDir, 'pods')).rootOf(victimPodId);
  targets.push(listing("pods' own directories", path.dirname(victimRoot), victimPodId));
  const profile = path.join(victimRoot, 'user-data', 'Default');
  targets.push(listing("victim pod's profile", profile, 'Preferences'));
  const cookies = path.join(profile, 'Cookies');
  if (existsSync(cookies))
    targets.push({
      label: "victim pod's Cookies database",
      path: cookies,
      kind: 'binary',
      markers: [head(cookies, 32)],
    });

  const redis = new Redis(redisUrl());
  try {
    const dir = ((await redis.config('GET', 'dir')) as string[])[1];
    const name = ((await redis.config('GET', 'dbfilename')) as string[])[1];
    const dump = dir && name ? path.join(dir, name) : undefined;
    if (dump && existsSync(dump))
      targets.push({ label: 'Redis dump', path: dump, kind: 'binary', markers: [head(dump, 32)] });
  } finally {
    redis.disconnect();
  }
  return targets;
}

/** Entries of a directory, for a failing assertion's message. */
export function entriesOf(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
