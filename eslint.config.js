// Type-aware lint; the import-boundary rule keeps processes from importing each other.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const processes = ['broker', 'workers', 'pool-controller', 'proxy'];
const processFolders = processes.map((p) => `**/${p}/*`);

/**
 * The tests and the load tests import the product; the product never imports them. The sim runtime
 * server (load-tests/sim-runtime/) is such tooling: the sim driver (core/runtime/sim/) starts it by
 * path, it ships in no image.
 */
const TOOLING = ['**/test/*', '**/load-tests/*'];
const SIM_SERVER = '**/load-tests/sim-runtime/*';
const notTooling = {
  group: TOOLING,
  message: 'The product never imports test/ or load-tests/ (the sim runtime server included).',
};

const boundary = (self) => ({
  files: [`${self}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...[...processes.filter((p) => p !== self), 'cli', 'stack'].map((p) => ({
            group: [`**/${p}/*`, `../${p}`],
            message: 'Processes never import each other (or cli/, stack/); move shared code to core/.',
          })),
          notTooling,
        ],
      },
    ],
  },
});

/** core/ folders that do I/O or hold the control plane's state: never part of the pod agent. */
const CORE_WITH_IO =
  'artifacts capacity config db lifecycle logging metrics pools process queue redis runtime'.split(' ');

/**
 * Files matching `files` may not import `group` (glob patterns) nor the packages in `paths`, nor what
 * the `also` pattern groups name. Flat config does not merge a rule's options: of the configs that
 * match a file, the last one's patterns are all that apply, so a narrower folder passes its parent
 * folder's patterns as `also`.
 */
const restrictImports = (files, group, message, paths = [], also = []) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { paths, patterns: [{ group, message }, ...also] }] },
});

const CORE = {
  group: [...processFolders, '**/cli/*', '**/stack/*', ...TOOLING],
  message: 'core/ imports no process folder, nor the composition root, the tests or the benchmarks.',
};
const LOAD_TESTS = {
  group: [...processFolders, '**/cli/*'],
  message: 'load-tests/ drive the service through stack/ or its HTTP API.',
};

/** Plain ES modules (no TypeScript), linted without type information against the named globals. */
const plainModules = (files, globals) => ({
  files,
  ...tseslint.configs.disableTypeChecked,
  languageOptions: {
    ...tseslint.configs.disableTypeChecked.languageOptions,
    sourceType: 'module',
    globals: Object.fromEntries(globals.split(' ').map((name) => [name, 'readonly'])),
  },
});

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.ventus/**',
      'scratch/**',
      'bin/**',
      'eslint.config.js',
      'runtime-image/*.mjs',
      'charts/**',
      'sdk/dist/**',
      'dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Fastify hooks and handlers are async by contract, awaited or not.
      '@typescript-eslint/require-await': 'off',
    },
  },
  // The dashboard's browser modules: plain ES modules served as they are (no build step), so
  // they are linted without type information, against the browser's globals.
  plainModules(
    ['broker/dashboard/public/**/*.js'],
    'window document location sessionStorage fetch URL URLSearchParams Node HTMLElement CSS setTimeout clearTimeout',
  ),
  // The SDK's plain-JavaScript examples, run by Node 20 as they are (no TypeScript); `innerWidth`
  // and `innerHeight` are read inside a page.evaluate callback.
  plainModules(['sdk/examples/**/*.mjs'], 'process console innerWidth innerHeight'),
  // The build script (`npm run build`), run by Node as it is: it builds the TypeScript.
  plainModules(['scripts/*.mjs'], 'process performance URL'),
  ...processes.map(boundary),
  restrictImports(['core/**/*.ts'], CORE.group, CORE.message),
  // The composition root (stack/) wires the processes together; nothing it starts imports it back,
  // and it knows nothing of the CLI, the tests or the benchmarks that use it.
  restrictImports(
    ['stack/**/*.ts'],
    ['**/cli/*', '**/load-tests/*', '**/test/*'],
    'stack/ is used by cli/, test/ and load-tests/, never the other way.',
  ),
  // The benchmarks start the service through stack/ or its HTTP API (the CLI's `ventus load` uses
  // load-tests/harness; load-tests never import cli/).
  restrictImports(['load-tests/**/*.ts'], LOAD_TESTS.group, LOAD_TESTS.message),
  // The sim runtime server is a program of its own (bundled and started by core/runtime/sim/'s
  // launcher, which fingerprints its folder, core/runtime/ and the agent's): it imports its folder,
  // what it shares with the sim driver in core/ and the agent's helpers, not the rest of the tooling.
  restrictImports(
    ['load-tests/sim-runtime/**/*.ts'],
    ['**/stack/*', '**/test/*', '../*.ts', '../harness/*', '../scenarios/*', '../soak/*'],
    'The sim runtime server imports its own folder, core/ and runtime-image/agent only.',
    [],
    [LOAD_TESTS],
  ),
  // The CLI's `ventus load` uses load-tests/harness; the sim runtime server is started by the sim
  // driver, never by the CLI itself.
  restrictImports(
    ['cli/**/*.ts'],
    ['**/test/*', SIM_SERVER],
    'cli/ imports neither test/ nor the sim runtime server (load-tests/sim-runtime/).',
  ),
  // The pod agent is its own program, the code that runs inside the boundary: it imports its own
  // folder and the pure modules of core/ it shares (RFB messages, the network-target check), nothing else.
  restrictImports(
    ['runtime-image/agent/**/*.ts'],
    [
      ...processFolders,
      '**/cli/*',
      '**/stack/*',
      ...TOOLING,
      ...CORE_WITH_IO.map((dir) => `**/core/${dir}/*`),
      '**/core/services.ts',
    ],
    'The agent imports only runtime-image/agent/ and core/domain, core/security.',
  ),
  // The SDK is a package of its own: it talks to the service over HTTP only.
  restrictImports(['sdk/src/**/*.ts'], ['../../*'], 'sdk/src imports nothing outside the SDK package.'),
  restrictImports(
    ['core/domain/**/*.ts'],
    ['../db/*', '../redis/*', '../queue/*', '../runtime/*'],
    'core/domain is pure: no I/O.',
    ['pg', 'ioredis', 'bullmq', 'fastify', 'ws', 'node:fs', 'node:net', 'node:http'],
    [CORE],
  ),
  // test/ imports anything: the product, stack/, load-tests/ (its harness, the sim runtime server);
  // the product's own configs above keep the product from importing test/ or load-tests/.
);
