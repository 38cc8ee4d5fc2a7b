/**
 * The control-plane image as the Dockerfile makes it, laid out in a temp directory (no Docker engine
 * here): the build stage's files plus node_modules, `npm run build`; then only what the final stage
 * copies, with only the production packages of the lockfile (`npm ci --omit=dev`). From there
 * `ventus` migrates a scratch database and each process the chart runs starts, with the chart's
 * command, and answers /readyz: the built programs find every file and package they need without the
 * sources. Starts no browser (min_ready 0).
 */
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prebuiltBundleFile } from '../../core/runtime/node-bundle.ts';
import { podAgentBundle } from '../../core/runtime/pod-agent-bundle.ts';
import { podLauncherBundle } from '../../core/runtime/pod-launcher/launcher.bundle.ts';
import { dockerStages, type DockerStage } from '../support/dockerfile.ts';
import { adminDatabaseUrl, redisUrl } from '../support/env.ts';
import { eventually } from '../support/eventually.ts';
import { freePort } from '../support/free-port.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The stage's COPY lines into `dir`; `--from=<stage>` copies from `stageDirs`' directory for it. */
function layOut(
  stage: DockerStage,
  dir: string,
  stageDirs: Record<string, { workdir: string; dir: string }>,
) {
  for (const copy of stage.copies) {
    const from = copy.from === undefined ? undefined : stageDirs[copy.from]!;
    for (const source of copy.sources) {
      const src = from ? path.join(from.dir, path.relative(from.workdir, source)) : path.join(ROOT, source);
      const isDir = statSync(src).isDirectory();
      // COPY <dir> <dest> copies the folder's contents; a file into a dest ending in / keeps its name.
      const dest = path.join(dir, copy.dest);
      const target = !isDir && copy.dest.endsWith('/') ? path.join(dest, path.basename(source)) : dest;
      mkdirSync(path.dirname(target), { recursive: true });
      cpSync(src, target, { recursive: true });
    }
  }
}

/** node_modules with the lockfile's production packages only (links to the checkout's). */
function productionModules(dir: string): void {
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  for (const [key, entry] of Object.entries(lock.packages)) {
    // Top-level packages: nested node_modules come with the package they are in.
    if (!key.startsWith('node_modules/') || key.lastIndexOf('node_modules/') !== 0 || entry.dev) continue;
    const installed = path.join(ROOT, key);
    try {
      statSync(installed);
    } catch {
      continue; // an optional package of another platform
    }
    mkdirSync(path.dirname(path.join(dir, key)), { recursive: true });
    symlinkSync(installed, path.join(dir, key));
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : filesUnder(file);
    return [file];
  });
}

/** The `command:` of a chart template (the first one in it). */
function chartCommand(template: string): [string, ...string[]] {
  const text = readFileSync(path.join(ROOT, 'charts/ventus/templates', template), 'utf8');
  return JSON.parse(/command: (\[.*\])/.exec(text)![1]!) as [string, ...string[]];
}

describe('the control-plane image, laid out and run', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'ventus-image-'));
  const app = path.join(work, 'app');
  const name = `vt_image_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client(adminDatabaseUrl());
  const children: ChildProcess[] = [];
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const [build, image] = dockerStages(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')) as [
      DockerStage,
      DockerStage,
    ];
    const src = path.join(work, 'src');
    layOut(build, src, {});
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(src, 'node_modules'));
    // The build stage's `RUN npm run build`.
    const { scripts } = JSON.parse(readFileSync(path.join(src, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(scripts.build).toBe('node scripts/build.mjs');
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: src, stdio: 'pipe' });
    layOut(image, app, { build: { workdir: build.workdir, dir: src } });
    productionModules(app);

    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const db = new URL(adminDatabaseUrl());
    db.pathname = `/${name}`;
    // A container's environment, nothing of this test process's: settings and secrets (the local
    // driver, no pods: there is no cluster here).
    env = {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      DATABASE_URL: db.toString(),
      REDIS_URL: redisUrl(),
      HOST: '127.0.0.1',
      VENTUS_REDIS_PREFIX: name,
      VENTUS_DATA_DIR: path.join(work, 'data'),
      VENTUS_POOL_MIN_READY: '0',
      VENTUS_LOG_LEVEL: 'warn',
      VENTUS_JWT_SECRET: randomBytes(48).toString('base64'),
      VENTUS_POD_AGENT_KEY: randomBytes(48).toString('base64'),
    };
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    const redis = new Redis(redisUrl());
    const keys = await redis.keys(`${name}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(work, { recursive: true, force: true });
  });

  it('holds the built programs and the files they read, and no TypeScript', () => {
    const files = filesUnder(app).map((f) => path.relative(app, f));
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/broker.mjs',
        'dist/cli.mjs',
        'dist/pod-agent.mjs',
        'dist/pod-launcher.mjs',
        'dist/kernel-relay',
      ]),
    );
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(readdirSync(path.join(app, 'node_modules'))).not.toContain('tsx');
  });

  it("runs ventus (bin/ventus.js → dist/cli.mjs): --version, and the chart's migrate with the migrations it ships", async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect((await run('node', ['bin/ventus.js', '--version'], { cwd: app, env })).stdout.trim()).toBe(
      version,
    );
    // The chart's migration init container.
    const [node, ...args] = chartCommand('_helpers.tpl');
    const migrated = await run(node, [...args, '--json'], { cwd: app, env });
    expect(JSON.parse(migrated.stdout)).toEqual({ migrated: true });
  });

  it("starts each process with the chart's command; each answers /readyz, the broker its dashboard and API reference", async () => {
    const programs = ['broker', 'proxy', 'workers', 'pool-controller'] as const;
    const urls: Record<string, string> = {};
    const output: Record<string, string> = {};
    for (const program of programs) {
      const port = await freePort();
      urls[program] = `http://127.0.0.1:${port}`;
      const portVar = program === 'broker' || program === 'proxy' ? 'PORT' : 'VENTUS_OPS_PORT';
      const [node, ...args] = chartCommand(`${program}-deployment.yaml`);
      const child = execFile(node, args, {
        cwd: app,
        env: { ...env, [portVar]: String(port) },
      });
      output[program] = '';
      child.stderr?.on('data', (d: Buffer) => (output[program] += d.toString()));
      child.stdout?.on('data', (d: Buffer) => (output[program] += d.toString()));
      children.push(child);
    }
    for (const [i, program] of programs.entries()) {
      const ended = once(children[i]!, 'exit').then(([code]) => {
        throw new Error(`${program} exited (${code}) before it was ready`);
      });
      await Promise.race([
        ended,
        eventually(
          `${program} ready`,
          async () => (await fetch(`${urls[program]}/readyz`).catch(() => undefined))?.ok ?? false,
          { timeoutMs: 60_000, everyMs: 100 },
        ),
      ]).catch((err: Error) => {
        throw new Error(`${err.message}; its stderr:\n${output[program]}`);
      });
      ended.catch(() => undefined);
    }
    // The proxy found its kernel relay (dist/kernel-relay: no C source in the image).
    expect(output.proxy).not.toMatch(/not in the kernel/);
    const dashboard = await fetch(`${urls.broker}/dashboard/`);
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toContain('<html');
    expect((await fetch(`${urls.broker}/dashboard/app.js`)).status).toBe(200);
    expect((await fetch(`${urls.broker}/openapi.json`)).status).toBe(200);
    for (const child of children) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      expect(await exited).toEqual([0, null]);
    }
  });

  it.each([
    ['pod-agent', podAgentBundle],
    ['pod-launcher', podLauncherBundle],
  ])(
    'ships the %s the local driver builds from the sources, and installs it where there are none',
    (name, bundle) => {
      // The layout's node_modules is a link to the checkout's: esbuild names its files by their path.
      const linked = `${path.relative(path.join(work, 'src'), ROOT)}/node_modules/`;
      const prebuilt = path.join(app, `dist/${name}.mjs`);
      const shipped = readFileSync(prebuilt, 'utf8');
      const fromSources = bundle(path.join(work, 'bundles'));
      expect(shipped.replaceAll(linked, 'node_modules/')).toBe(readFileSync(fromSources, 'utf8'));
      // Without the sources (node-bundle.ts, checkedBundle): a private copy, checked like a bundle built here.
      const installed = prebuiltBundleFile(prebuilt, name, path.join(work, 'image-bundles'));
      expect(readFileSync(installed, 'utf8')).toBe(shipped);
      expect(path.basename(installed)).toMatch(new RegExp(`^${name}-[0-9a-f]{32}\\.mjs$`));
      expect(statSync(path.dirname(installed)).mode & 0o777).toBe(0o700);
    },
  );
});
