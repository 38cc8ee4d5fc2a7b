import { defineConfig } from 'vitest/config';
import { fastTierFiles } from './test/support/test-tiers.ts';

// `npm test` (VENTUS_TEST_TIER=fast): the files that start no browser. `npm run check` and
// `npx vitest run <files>`: everything, or the files named.
const fast = process.env.VENTUS_TEST_TIER === 'fast';

export default defineConfig({
  test: {
    include: fast ? fastTierFiles(['test', 'core']) : ['test/**/*.test.ts', 'core/**/*.test.ts'],
    // Real Postgres/Redis/Chromium: files run in parallel forks, each with its own database and Redis prefix.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
