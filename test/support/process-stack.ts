/**
 * The service as production runs it: broker, proxy, workers and pool controller as four OS
 * processes (each its own main), sharing one test database and Redis prefix. Fault tests SIGKILL and
 * restart them one at a time.
 */
import { pageEgressAllow } from './page-ports.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { TestContext } from './test-context.ts';
import { eventually } from './eventually.ts';
import { freePort } from './free-port.ts';

export type ProcessName = 'broker' | 'proxy' | 'workers' | 'pool-controller';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAINS: Record<ProcessName, string> = {
  broker: 'broker/main.ts',
  proxy: 'proxy/main.ts',
  workers: 'workers/main.ts',
  'pool-controller': 'pool-controller/main.ts',
};

export class ProcessStack {
  private readonly children = new Map<ProcessName, ChildProcess>();
  /** What each process wrote to stderr (its logs), for a failing test's message. */
  readonly output = new Map<ProcessName, string>();

  private constructor(
    private readonly env: NodeJS.ProcessEnv,
    readonly brokerUrl: string,
    readonly proxyUrl: string,
    private readonly ports: { broker: number; proxy: number },
  ) {}

  static async start(
    ctx: Pick<TestContext, 'databaseUrl' | 'redisUrl' | 'name' | 'dataDir'>,
    env: Record<string, string> = {},
  ): Promise<ProcessStack> {
    const ports = { broker: await freePort(), proxy: await freePort() };
    const proxyUrl = `http://127.0.0.1:${ports.proxy}`;
    const stack = new ProcessStack(
      {
        ...process.env,
        DATABASE_URL: ctx.databaseUrl,
        REDIS_URL: ctx.redisUrl,
        HOST: '127.0.0.1',
        PUBLIC_URL: proxyUrl,
        VENTUS_REDIS_PREFIX: ctx.name,
        VENTUS_DATA_DIR: ctx.dataDir,
        VENTUS_LOG_LEVEL: process.env.VENTUS_LOG_LEVEL ?? 'warn',
        VENTUS_RECONCILE_INTERVAL_MS: '200',
        VENTUS_OPS_PORT: '0',
        VENTUS_EGRESS_ALLOW: pageEgressAllow(),
        // Two fault files run at once in CI, each with four processes: stay well inside Postgres's 100 connections.
        VENTUS_DB_POOL_MAX: '4',
        ...env,
      },
      `http://127.0.0.1:${ports.broker}`,
      proxyUrl,
      ports,
    );
    for (const name of Object.keys(MAINS) as ProcessName[]) stack.start(name);
    // A stack that never came up must not leave its processes behind.
    await stack.ready().catch(async (err: unknown) => {
      await stack.close();
      throw err;
    });
    return stack;
  }

  start(name: ProcessName): void {
    const port = name === 'broker' ? this.ports.broker : name === 'proxy' ? this.ports.proxy : 0;
    const child = spawn(process.execPath, ['--import', 'tsx', MAINS[name]], {
      cwd: ROOT,
      env: { ...this.env, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.output.set(name, ((this.output.get(name) ?? '') + chunk.toString()).slice(-20_000));
    });
    this.children.set(name, child);
  }

  /** The OS pid of a running process (undefined when it is not running). */
  pid(name: ProcessName): number | undefined {
    const child = this.children.get(name);
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  /** SIGKILL: no shutdown handler runs, exactly like an OOM kill or a node failure. */
  async kill(name: ProcessName): Promise<void> {
    const child = this.children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async restart(name: ProcessName): Promise<void> {
    await this.kill(name);
    this.start(name);
    await this.ready();
  }

  /** Broker and proxy answer /healthz. */
  async ready(): Promise<void> {
    await eventually(
      'broker and proxy up',
      async () => {
        for (const url of [this.brokerUrl, this.proxyUrl]) {
          if (!(await fetch(`${url}/healthz`)).ok) return false;
        }
        return true;
      },
      { timeoutMs: 120_000, everyMs: 100 },
    );
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.children.values()].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
