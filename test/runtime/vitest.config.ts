/**
 * Runs only the runtime-driver tests, without the repo's global setup (Postgres and Redis, which
 * these tests do not use): `npx vitest run --config test/runtime/vitest.config.ts`.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/runtime/**/*.test.ts'],
    // Real Chromium: one fork per file, at most two at a time (pods are CPU-hungry while starting).
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
