/**
 * `lifecycle`: what a user waits for, step by step (the split public browser benchmarks use):
 * `create` (POST answered; from the scheduled start), `to_running` (a long-poll GET, `wait_seconds`),
 * `connect` (Playwright `connectOverCDP` through the proxy, until a page is at hand), `first_goto`
 * (`page.goto` of a local page, until `load`) and `release` (PATCH REQUEST_RELEASE answered).
 * Playwright only connects: the browser is the deployment's, nothing is launched or downloaded.
 */
import { networkOutcome, type HttpClient } from '../harness/http-client.ts';
import { serveLocalPage } from '../harness/local-page.ts';
import { createSession, releaseSession, unexpected, type Scenario, type SessionView } from './scenario.ts';

/** Under the HTTP client's 30 s timeout. */
const WAIT_SECONDS = 20;
const RUNNING_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 30_000;
const LIVE = new Set(['QUEUED', 'PROVISIONING']);

export type Failure = { outcome: string; error: true; detail: string };

/**
 * Whether waitForRunning failed. Not `'error' in x`: the session resource has an `error` field of
 * its own (null, or what went wrong with the session).
 */
export function isFailure(x: SessionView | Failure): x is Failure {
  return (x as Failure).error === true && typeof (x as Failure).outcome === 'string';
}

/**
 * Waits for RUNNING the way clients are meant to: `GET /v1/sessions/{id}?wait_seconds=20`, answered
 * the moment the session settles (one request, counted once by the rate limit), asked again while it
 * is still QUEUED or PROVISIONING, for at most a minute.
 */
export async function waitForRunning(http: HttpClient, id: string): Promise<SessionView | Failure> {
  const deadline = performance.now() + RUNNING_TIMEOUT_MS;
  for (;;) {
    const res = await http.request(
      'GET',
      `/v1/sessions/${encodeURIComponent(id)}?wait_seconds=${WAIT_SECONDS}`,
    );
    if (res.status !== 200) return unexpected(res);
    const session = res.body as SessionView;
    if (session.status === 'RUNNING') return session;
    if (!LIVE.has(session.status)) {
      return { outcome: 'ended_early', error: true, detail: `session became ${session.status}` };
    }
    if (performance.now() > deadline) {
      return {
        outcome: 'running_timeout',
        error: true,
        detail: `not RUNNING within ${RUNNING_TIMEOUT_MS} ms`,
      };
    }
  }
}

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
        let id: string | undefined;
        let released = false;
        let browser: import('playwright-core').Browser | undefined;
        try {
          const created = await createSession(http);
          mark('create');
          if (created.status === 503) return { outcome: '503' };
          if (created.status !== 202) return unexpected(created);
          id = (created.body as SessionView).id;
          const running = await waitForRunning(http, id);
          if (isFailure(running)) return running;
          mark('to_running');
          browser = await chromium.connectOverCDP(running.connect_url!, { timeout: STEP_TIMEOUT_MS });
          const context = browser.contexts()[0] ?? (await browser.newContext());
          const page = context.pages()[0] ?? (await context.newPage());
          mark('connect');
          await page.goto(url, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
          mark('first_goto');
          const release = await releaseSession(http, id);
          released = true;
          if (release.status !== 200) return unexpected(release);
          mark('release');
          return { outcome: 'ok' };
        } catch (err) {
          if (err instanceof Error && /connectOverCDP|goto/.test(err.message)) {
            return { outcome: 'cdp_error', error: true, detail: err.message.split('\n')[0]!.slice(0, 200) };
          }
          return { ...networkOutcome(err), error: true };
        } finally {
          // Whatever failed, the session does not outlive its arrival.
          if (id !== undefined && !released) await releaseSession(http, id).catch(() => {});
          await browser?.close().catch(() => {});
        }
      },
    };
  },
};
