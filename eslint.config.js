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
        patterns: [...processes.filter((p) => p !== self), 'cli'].map((p) => ({
          group: [`**/${p}/*`, `../${p}`],
          message: 'Processes never import each other (or cli/); move shared code to core/.',
        })),
      },
    ],
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
      'runtime-image/**',
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
  {
    // The dashboard's browser modules: plain ES modules served as they are (no build step), so
    // they are linted without type information, against the browser's globals.
    files: ['broker/dashboard/public/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'module',
      globals: Object.fromEntries(
        'window document location sessionStorage fetch URL URLSearchParams Node HTMLElement CSS setTimeout clearTimeout'
          .split(' ')
          .map((name) => [name, 'readonly']),
      ),
    },
  },
  ...processes.map(boundary),
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/broker/*', '**/workers/*', '**/pool-controller/*', '**/proxy/*', '**/cli/*'],
              message: 'core/ imports no process folder.',
            },
          ],
        },
      ],
    },
  },
  {
    // The SDK is a package of its own: it talks to the service over HTTP only.
    files: ['sdk/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../../*'], message: 'sdk/src imports nothing outside the SDK package.' }] },
      ],
    },
  },
  {
    files: ['core/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['pg', 'ioredis', 'bullmq', 'fastify', 'ws', 'node:fs', 'node:net', 'node:http'],
          patterns: [
            {
              group: ['../db/*', '../redis/*', '../queue/*', '../runtime/*'],
              message: 'core/domain is pure: no I/O.',
            },
          ],
        },
      ],
    },
  },
);
