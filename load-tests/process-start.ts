/**
 * Benchmark: each program's start, from the TypeScript sources through tsx and built (`npm run
 * build`, dist/). For every program and way of running it, --runs times: spawn → its health endpoint
 * answers (`/healthz`; the CLI: `ventus --help` exits), then its resident memory 1 s later (VmRSS of
 * /proc/<pid>/status), then SIGTERM. The ways are interleaved run by run, so a busy machine slows
 * them alike. On a scratch database (migrated once) and Redis prefix; no pods (min_ready 0).
 *
 *   tsx       node --import tsx <program>/main.ts (`ventus up`: cli/main.ts up), tsx's compile cache
 *             in /tmp warm: a developer's machine
 *   tsx-cold  the same with an empty TMPDIR: a new pod of the old image (its /tmp an emptyDir)
 *   built     node --enable-source-maps dist/<program>.mjs (`ventus up`: dist/cli.mjs up)
 *
 *   node --import tsx load-tests/process-start.ts [--runs 5]
 *       [--programs broker,workers,pool-controller,proxy,up,cli] [--modes tsx,tsx-cold,built]
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import { percentiles } from './stats.ts';
import { freePort } from '../test/support/free-port.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

type Mode = 'tsx' | 'tsx-cold' | 'built';
const PROGRAMS = ['broker', 'workers', 'pool-controller', 'proxy', 'up', 'cli'] as const;
type Program = (typeof PROGRAMS)[number];

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    programs: { type: 'string', default: PROGRAMS.join(',') },
    modes: { type: 'string', default: 'tsx,tsx-cold,built' },
  },
});
const RUNS = Number(values.runs);
const programs = values.programs.split(',') as Program[];
const modes = values.modes.split(',') as Mode[];
for (const p of programs) if (!PROGRAMS.includes(p)) throw new Error(`unknown program ${p}`);
for (const m of modes) if (!['tsx', 'tsx-cold', 'built'].includes(m)) throw new Error(`unknown mode ${m}`);

/** What runs `program` in `mode`: node's arguments (cwd: the checkout). */
function command(program: Program, mode: Mode): string[] {
  const args = program === 'cli' ? ['--help'] : program === 'up' ? ['up'] : [];
  // `node bin/ventus.js` runs dist/cli.mjs too, unless a source changed meanwhile: named here instead.
  if (mode === 'built') {
    const file = program === 'up' || program === 'cli' ? 'cli' : program;
    return ['--enable-source-maps', `dist/${file}.mjs`, ...args];
  }
  const main = program === 'up' || program === 'cli' ? 'cli/main.ts' : `${program}/main.ts`;
  return ['--import', 'tsx', main, ...args];
}

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

interface Sample {
  startMs: number;
  rssMb: number;
}

async function measure(program: Program, mode: Mode, env: NodeJS.ProcessEnv): Promise<Sample> {
  const port = await freePort();
  const tmp = mode === 'tsx-cold' ? await mkdtemp(path.join(os.tmpdir(), 'ventus-start-')) : undefined;
  const started = performance.now();
  const child = spawn(process.execPath, command(program, mode), {
    cwd: ROOT,
    env: {
      ...env,
      // Workers and the pool controller answer on their ops port; the others on PORT.
      [program === 'workers' || program === 'pool-controller' ? 'VENTUS_OPS_PORT' : 'PORT']: String(port),
      ...(tmp ? { TMPDIR: tmp } : {}),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = once(child, 'exit');
  try {
    if (program === 'cli') {
      const [code] = (await exited) as [number | null];
      if (code !== 0) throw new Error(`${program} (${mode}) exited ${code}: ${stderr}`);
      return { startMs: performance.now() - started, rssMb: NaN };
    }
    let ended = false;
    void exited.then(() => (ended = true));
    for (;;) {
      if (ended) throw new Error(`${program} (${mode}) exited before it answered: ${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(500) })
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const startMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 1000));
    return { startMs, rssMb: rssMb(child.pid!) };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

// dist/ as the sources are now (bin/ventus.js would run the sources through tsx if it were older).
execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });

const name = `start_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client(ADMIN_URL);
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const dbUrl = new URL(ADMIN_URL);
dbUrl.pathname = `/${name}`;
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ventus-start-data-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  DATABASE_URL: dbUrl.toString(),
  REDIS_URL,
  HOST: '127.0.0.1',
  VENTUS_REDIS_PREFIX: name,
  VENTUS_DATA_DIR: dataDir,
  VENTUS_POOL_MIN_READY: '0',
  VENTUS_LOG_LEVEL: 'warn',
  VENTUS_JWT_SECRET: randomBytes(48).toString('base64'),
};
const samples = new Map<string, Sample[]>();
try {
  execFileSync(process.execPath, ['bin/ventus.js', 'migrate'], { cwd: ROOT, env, stdio: 'ignore' });
  for (let run = 1; run <= RUNS; run++) {
    for (const program of programs) {
      for (const mode of modes) {
        const sample = await measure(program, mode, env);
        const key = `${program}\0${mode}`;
        samples.set(key, [...(samples.get(key) ?? []), sample]);
        process.stderr.write(
          `run ${run}/${RUNS} ${program} ${mode}: ${sample.startMs.toFixed(0)} ms, ${sample.rssMb.toFixed(0)} MB\n`,
        );
      }
    }
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${name}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await rm(dataDir, { recursive: true, force: true });
}

const rows = [['program', 'mode', 'n', 'start p50', 'start min', 'start max', 'RSS p50']];
for (const program of programs) {
  for (const mode of modes) {
    const got = samples.get(`${program}\0${mode}`) ?? [];
    const start = percentiles(got.map((s) => s.startMs));
    const rss = percentiles(got.map((s) => s.rssMb));
    const ms = (v: number) => `${v.toFixed(0)} ms`;
    rows.push([
      program === 'up' ? 'ventus up' : program === 'cli' ? 'ventus --help' : program,
      mode,
      String(got.length),
      ms(start.p50),
      ms(Math.min(...got.map((s) => s.startMs))),
      ms(start.max),
      Number.isNaN(rss.p50) ? '-' : `${rss.p50.toFixed(0)} MB`,
    ]);
  }
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const [i, row] of rows.entries()) {
  process.stdout.write(`| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |\n`);
  if (i === 0) process.stdout.write(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n`);
}
process.stdout.write(
  `\n${os.cpus().length} CPUs, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, node ${process.version}\n`,
);
