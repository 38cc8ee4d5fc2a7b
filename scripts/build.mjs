// `npm run build`: every program as plain JavaScript in dist/, so production (the control-plane
// image) and `npm start` run `node --enable-source-maps dist/<program>.mjs`, with no TypeScript
// compile on start. Tests and `node bin/ventus.js` on a changed checkout run the sources (tsx).
//
//   dist/broker.mjs, workers.mjs, pool-controller.mjs, proxy.mjs, cli.mjs (`ventus`, `ventus up`)
//     their shared code in dist/chunk-*.mjs; npm packages stay imports, node_modules supplies them.
//   dist/pod-agent.mjs, pod-launcher.mjs  the pod agent and the local driver's pod launcher,
//                       self-contained, for a local driver without their sources.
//   dist/kernel-relay   the kernel relay (runtime-image/agent/kernel-relay.c) of the proxy and the pod agent, compiled with the machine's C
//                       compiler where there is one (the proxy relays in Node where it is missing).
//   dist/build.json     the sources the programs were built from: bin/ventus.js runs dist/cli.mjs
//                       only when none of them is newer.
import { execFile } from 'node:child_process';
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = path.join(ROOT, 'dist');

/** Self-contained helpers the local driver starts with plain `node`, for where their sources are not. */
const HELPERS = {
  'pod-agent': 'runtime-image/agent/main.ts',
  'pod-launcher': 'core/runtime/pod-launcher/launcher.main.ts',
};

const PROGRAMS = {
  broker: 'broker/main.ts',
  workers: 'workers/main.ts',
  'pool-controller': 'pool-controller/main.ts',
  proxy: 'proxy/main.ts',
  cli: 'cli/main.ts',
};

/**
 * Sources find their files relative to themselves (`new URL('../../migrations/', import.meta.url)`:
 * migrations/, core/redis/lua/, broker/dashboard/public/, package.json). In a bundle every module
 * would share the bundle's URL, so each module's `import.meta.url` (and `dirname`, `filename`)
 * becomes its own source file's, and those files resolve where they are in the checkout (and in the
 * image, which keeps them at the same paths). esbuild's parser does the replacing (`define`), so
 * strings and comments keep theirs.
 */
const IMPORT_META = {
  'import.meta.url': '__sourceUrl',
  'import.meta.filename': '__sourceFile',
  'import.meta.dirname': '__sourceDir',
};
const sourceUrls = {
  name: 'source-urls',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!/import\.meta\.(url|filename|dirname)/.test(source)) return undefined;
      // Entries and chunks all sit directly in dist/: one relative path fits whichever holds the module.
      const own = path.relative(OUT, args.path).split(path.sep).join('/');
      // Prepended to the first line (no newline), so the source map's line numbers stay right.
      let line = `const __sourceUrl = new URL(${JSON.stringify(own)}, __bundleUrl).href; `;
      if (source.includes('import.meta.filename'))
        line += 'const __sourceFile = __fileURLToPath(__sourceUrl); ';
      if (source.includes('import.meta.dirname'))
        line += "const __sourceDir = __fileURLToPath(new URL('.', __sourceUrl)).slice(0, -1); ";
      return { contents: line + source, loader: 'ts' };
    });
  },
};

const started = performance.now();
await rm(OUT, { recursive: true, force: true });
await mkdir(OUT, { recursive: true });

const [programs] = await Promise.all([
  build({
    absWorkingDir: ROOT,
    entryPoints: Object.entries(PROGRAMS).map(([out, main]) => ({ in: main, out })),
    outdir: OUT,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    // `ventus up` imports the whole service lazily; splitting keeps other commands from loading it.
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    // Stack traces name the .ts files and lines (run with --enable-source-maps).
    sourcemap: true,
    sourcesContent: false,
    metafile: true,
    banner: {
      js: "import { fileURLToPath as __fileURLToPath } from 'node:url'; const __bundleUrl = import.meta.url;",
    },
    define: IMPORT_META,
    plugins: [sourceUrls],
    logLevel: 'warning',
  }),
  // The settings of core/runtime/node-bundle.ts, where the local driver bundles these from their
  // sources; test/charts/control-plane-build.test.ts checks that both give the same files.
  ...Object.entries(HELPERS).map(([out, main]) =>
    build({
      absWorkingDir: ROOT,
      entryPoints: [main],
      outfile: path.join(OUT, `${out}.mjs`),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['bufferutil', 'utf-8-validate'],
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
      logLevel: 'warning',
    }),
  ),
]);

// The same flags as core/runtime/kernel-relay.program.ts, which compiles it where the sources are.
const relay = await promisify(execFile)(
  process.env.CC || 'cc',
  [
    '-O2',
    '-Wall',
    '-o',
    path.join(OUT, 'kernel-relay'),
    path.join(ROOT, 'runtime-image/agent/kernel-relay.c'),
  ],
  { timeout: 120_000 },
).then(
  () => 'kernel-relay',
  (err) => {
    process.stderr.write(
      `build: no dist/kernel-relay (${String(err.message).split('\n')[0]}); the proxy and the local driver's agents will relay in Node\n`,
    );
    return undefined;
  },
);

// This script as well: new build settings make dist/ stale too.
const sources = [...Object.keys(programs.metafile.inputs), 'scripts/build.mjs'].sort();
await writeFile(
  path.join(OUT, 'build.json'),
  `${JSON.stringify({ programs: PROGRAMS, sources }, null, 2)}\n`,
);
process.stderr.write(
  `build: dist/ (${[...Object.keys(PROGRAMS), ...Object.keys(HELPERS), ...(relay ? [relay] : [])].join(', ')}) in ${Math.round(performance.now() - started)} ms\n`,
);
