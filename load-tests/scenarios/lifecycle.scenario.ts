/**
 * `lifecycle`: what a user waits for, step by step (the split public browser benchmarks use):
 * `create` (POST answered; from the scheduled start), `to_running` (a long-poll GET, `wait_seconds`),
 * `connect` (Playwright `connectOverCDP` through the proxy, until a page is at hand), `first_goto`
 * (`page.goto` of a local page, until `load`) and `release` (PATCH REQUEST_RELEASE answered).
 * Playwright only connects: the browser is the deployment's, nothing is launched or downloaded.
 */
import { serveLocalPage } from '../harness/local-page.ts';
import type { Scenario } from './scenario.ts';
import { sessionLife } from './session-life.ts';

const STEP_TIMEOUT_MS = 30_000;

export const lifecycleScenario: Scenario = {
  name: 'lifecycle',
  description:
    'create → RUNNING → Playwright connectOverCDP → goto a local page → release, each step timed. ' +
    'A 503 (pool full) ends the arrival after the create step; the total also counts the CDP disconnect.',
  steps: ['create', 'to_running', 'connect', 'first_goto', 'release'],
  outcomes: ['ok', '503'],
  async prepare({ http, pageUrl }) {
    let playwright: typeof import('playwright-core');
    try {
      playwright = await import('playwright-core');
    } catch {
      throw new Error('the lifecycle scenario needs playwright-core (npm install, with dev dependencies)');
    }
    const { chromium } = playwright;
    const site = pageUrl ? undefined : await serveLocalPage();
    const url = pageUrl ?? site!.url;
    return {
      notes: [`Pages opened: ${url}${site ? ' (served by the load generator)' : ''}.`],
      close: async () => site?.close(),
      async task({ mark }) {
        let browser: import('playwright-core').Browser | undefined;
        try {
          return await sessionLife(
            http,
            mark,
            async (running) => {
              browser = await chromium.connectOverCDP(running.connect_url!, { timeout: STEP_TIMEOUT_MS });
              const context = browser.contexts()[0] ?? (await browser.newContext());
              const page = context.pages()[0] ?? (await context.newPage());
              mark('connect');
              await page.goto(url, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
              mark('first_goto');
            },
            (err) =>
              err instanceof Error && /connectOverCDP|goto/.test(err.message)
                ? { outcome: 'cdp_error', error: true, detail: err.message.split('\n')[0]!.slice(0, 200) }
                : undefined,
          );
        } finally {
          await browser?.close().catch(() => {});
        }
      },
    };
  },
};
