// Type-aware lint; the import-boundary rule keeps processes from importing each other.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const processes = ['broker', 'workers', 'pool-controller', 'proxy'];

const boundary = (self) => ({
  files: [`${self}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [...processes.filter((p) => p !== self), 'cli', 'stack'].map((p) => ({
          group: [`**/${p}/*`, `../${p}`],
          message: 'Processes never import each other (or cli/, stack/); move shared code to core/.',
        })),
      },
    ],
  },
});

const processFolders = processes.map((p) => `**/${p}/*`);
/** core/ folders that do I/O or hold the control plane's state: never part of the pod agent. */
const CORE_WITH_IO =
  'artifacts capacity config db lifecycle logging metrics pools process queue redis runtime'.split(' ');

/** Files matching `files` may not import `group` (glob patterns) nor the packages in `paths`. */
const restrictImports = (files, group, message, paths = []) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { paths, patterns: [{ group, message }] }] },
});

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
  ...processes.map(boundary),
  restrictImports(
    ['core/**/*.ts'],
    [...processFolders, '**/cli/*', '**/stack/*', '**/load-tests/*', '**/test/*'],
    'core/ imports no process folder, nor the composition root, the tests or the benchmarks.',
  ),
  // The composition root (stack/) wires the processes together; nothing it starts imports it back,
  // and it knows nothing of the CLI, the tests or the benchmarks that use it.
  restrictImports(
    ['stack/**/*.ts'],
    ['**/cli/*', '**/load-tests/*', '**/test/*'],
    'stack/ is used by cli/, test/ and load-tests/, never the other way.',
  ),
  // The benchmarks start the service through stack/ or its HTTP API (the CLI's `ventus load` uses
  // load-tests/harness; load-tests never import cli/).
  restrictImports(
    ['load-tests/**/*.ts'],
    [...processFolders, '**/cli/*'],
    'load-tests/ drive the service through stack/ or its HTTP API.',
  ),
  // The pod agent is its own program, the code that runs inside the boundary: it imports its own
  // folder and the pure modules of core/ it shares (RFB messages, the network-target check), nothing else.
  restrictImports(
    ['runtime-image/agent/**/*.ts'],
    [...processFolders, '**/cli/*', ...CORE_WITH_IO.map((dir) => `**/core/${dir}/*`), '**/core/services.ts'],
    'The agent imports only runtime-image/agent/ and core/domain, core/security.',
  ),
  // The SDK is a package of its own: it talks to the service over HTTP only.
  restrictImports(['sdk/src/**/*.ts'], ['../../*'], 'sdk/src imports nothing outside the SDK package.'),
  restrictImports(
    ['core/domain/**/*.ts'],
    ['../db/*', '../redis/*', '../queue/*', '../runtime/*'],
    'core/domain is pure: no I/O.',
    ['pg', 'ioredis', 'bullmq', 'fastify', 'ws', 'node:fs', 'node:net', 'node:http'],
  ),
);
