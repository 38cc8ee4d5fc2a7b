/**
 * A Postgres cluster and a redis-server of a test's own, on free ports, so a fault test can stop and
 * restart them without touching the machine's shared services (other test files use those).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../stack/embedded-services.ts';
import { eventually } from './eventually.ts';

const run = promisify(execFile);

async function postgresBin(): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql')).sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('no Postgres binaries under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

/** initdb and pg_ctl refuse to run as root: run them as the `postgres` OS user then. */
async function asPostgres(bin: string, args: string[]): Promise<void> {
  const root = process.getuid?.() === 0;
  await run(root ? 'runuser' : bin, root ? ['-u', 'postgres', '--', bin, ...args] : args, {
    timeout: 60_000,
  });
}

export class ThrowawayPostgres {
  private constructor(
    private readonly bin: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  /** Superuser URL of the cluster's `postgres` database (trust auth, 127.0.0.1 only). */
  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async create(): Promise<ThrowawayPostgres> {
    const bin = await postgresBin();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ventus-pg-'));
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      await chown(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    await chmod(dir, 0o700);
    await asPostgres(`${bin}/initdb`, ['-D', `${dir}/data`, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    const pg = new ThrowawayPostgres(bin, dir, await freePort());
    await pg.start();
    return pg;
  }

  async start(): Promise<void> {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    await asPostgres(`${this.bin}/pg_ctl`, [
      '-D',
      `${this.dir}/data`,
      '-o',
      opts,
      '-l',
      `${this.dir}/log`,
      '-w',
      'start',
    ]);
  }

  /** `pg_ctl stop -m fast`: every connection is cut, as in a failover or a restart for an upgrade. */
  async stop(): Promise<void> {
    await asPostgres(`${this.bin}/pg_ctl`, ['-D', `${this.dir}/data`, '-m', 'fast', '-w', 'stop']);
  }

  async destroy(): Promise<void> {
    await asPostgres(`${this.bin}/pg_ctl`, ['-D', `${this.dir}/data`, '-m', 'immediate', '-w', 'stop']).catch(
      () => undefined,
    );
    await rm(this.dir, { recursive: true, force: true });
  }
}

export class ThrowawayRedis {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async create(): Promise<ThrowawayRedis> {
    const redis = new ThrowawayRedis(await freePort());
    await redis.start();
    return redis;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** No persistence: a restart comes back empty, like a restarted cache node. */
  async start(): Promise<void> {
    if (this.running) return;
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--hz', '100'],
      { stdio: 'ignore' },
    );
    this.child = child;
    await eventually(
      `redis-server on ${this.port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited ${child.exitCode}`);
        const { stdout } = await run('redis-cli', ['-p', String(this.port), 'PING'], { timeout: 2_000 });
        return stdout.trim() === 'PONG';
      },
      { timeoutMs: 10_000, everyMs: 50 },
    );
  }

  /** SIGKILL: the data goes with the process (no persistence). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.kill();
  }
}
