/**
 * Screenshots of the dashboard for the README and docs/dashboard.md, at 1280x800. Starts the whole
 * service on a scratch database and Redis prefix (as the tests do), seeds a workspace "acme" with an
 * admin key, a few more keys, a history of ended sessions, live sessions with labels and one recorded
 * session that ended, then signs in with Debian's Chromium (/usr/bin/chromium; downloads nothing)
 * and saves the sign-in, sessions (searched), New session, session (player and timeline), API keys,
 * workspace and pools pages into docs/images/. Exits non-zero if any page fails to render (an error
 * notice, a page script error, or its content not appearing).
 *
 *   node --import tsx scripts/dashboard-screenshots.ts
 */
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TestContext } from '../test/support/test-context.ts';
import { VIEWER_LAUNCH } from '../test/support/live-view-page.ts';
import { listenOnPagePort } from '../test/support/page-ports.ts';
import { eventually } from '../test/support/eventually.ts';
import { createApiKey, createWorkspace } from '../core/db/workspaces.repository.ts';
import { ulid } from 'ulid';
import type { Stack } from '../stack/stack.ts';

const OUT = fileURLToPath(new URL('../docs/images/', import.meta.url));
const VIEWPORT = { width: 1280, height: 800 };
const POOL = 'us-east1-chromium';

/** The recorded session's page: a checkout form whose progress bar moves, so the video has frames. */
const SHOP = `<!doctype html><title>Acme shop · checkout</title>
<body style="margin:0;font:18px system-ui,sans-serif;background:#f4f6fb;color:#1d2433">
<header style="background:#1f3a68;color:#fff;padding:18px 32px;font-size:22px">Acme shop</header>
<main style="padding:32px"><h1 style="margin:0 0 16px">Checkout · step 2 of 3</h1>
<p>Delivery address for order #1042</p>
<div style="background:#dde3ee;height:14px;width:600px;border-radius:7px">
<div id="bar" style="background:#2c7be5;height:14px;width:0;border-radius:7px"></div></div></main>
<script>let w = 0; setInterval(() => { w = (w + 6) % 600; bar.style.width = w + 'px'; }, 40);</script>`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Api {
  <T>(method: string, url: string, body?: unknown): Promise<T>;
  /** Only the status, for polling a call that answers 409 while not ready. */
  status(method: string, url: string): Promise<number>;
}

function apiFor(stack: Stack, key: string): Api {
  const request = (method: string, url: string, body?: unknown) =>
    fetch(stack.url + url, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(method === 'POST' && url === '/v1/sessions' && { 'idempotency-key': crypto.randomUUID() }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const call = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const res = await request(method, url, body);
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
    return (res.status === 204 ? undefined : await res.json()) as T;
  };
  return Object.assign(call, {
    async status(method: string, url: string) {
      const res = await request(method, url);
      await res.body?.cancel();
      return res.status;
    },
  });
}

/** Starting browsers on a busy 2-core machine takes a while. */
const patiently = { timeoutMs: 90_000, everyMs: 200 };

/** Ended sessions of the last two days, as rows (their browsers are long gone). */
async function seedHistory(ctx: TestContext, workspaceId: string): Promise<void> {
  const ended = [
    ['COMPLETED', 'client_release', { team: 'checkout', job: 'nightly-crawl' }],
    ['COMPLETED', 'client_release', { team: 'billing', ticket: 'RCM-1038' }],
    ['EXPIRED', 'timeout', { team: 'search', job: 'price-watch' }],
    ['COMPLETED', 'client_release', { team: 'checkout', job: 'smoke' }],
    ['ERRORED', 'runtime_failure', { team: 'growth', experiment: 'onboarding-b' }],
    ['COMPLETED', 'cdp_disconnect', { team: 'billing', ticket: 'RCM-1040' }],
    ['COMPLETED', 'client_release', { team: 'checkout', job: 'nightly-crawl' }],
  ] as const;
  const now = Date.now();
  for (const [i, [status, reason, labels]] of ended.entries()) {
    const created = now - (ended.length - i) * 4.5 * 3600_000;
    await ctx.db.query(
      `INSERT INTO sessions (id, workspace_id, pool, status, region, runtime_kind, timeout_seconds,
                             keep_alive_seconds, labels, created_at, started_at, expires_at,
                             released_at, release_reason, error)
       VALUES ($1, $2, $3, $4, 'us-east1', 'chromium', 1800, 0, $5, $6, $6::timestamptz + interval '1 second',
               $7, $7, $8, $9)`,
      [
        ulid(created),
        workspaceId,
        POOL,
        status,
        JSON.stringify(labels),
        new Date(created),
        new Date(created + (status === 'EXPIRED' ? 1800 : 240 + i * 37) * 1000),
        reason,
        status === 'ERRORED' ? 'the browser exited (signal SIGKILL)' : null,
      ],
    );
  }
}

/** One recorded session that visited the shop page and ended; resolves once its video is saved. */
async function recordedSession(stack: Stack, api: Api): Promise<string> {
  const site = http.createServer((_req, res) =>
    res.setHeader('content-type', 'text/html; charset=utf-8').end(SHOP),
  );
  const port = await listenOnPagePort(site);
  try {
    const { id } = await api<{ id: string }>('POST', '/v1/sessions', {
      labels: { team: 'checkout', job: 'address-form', ticket: 'RCM-1042' },
      viewport: { width: 1024, height: 640 },
      recording: { enabled: true },
    });
    const running = await eventually(
      'the recorded session to run',
      async () => {
        const s = await api<{ status: string; connect_url: string }>('GET', `/v1/sessions/${id}`);
        return s.status === 'RUNNING' && s;
      },
      patiently,
    );
    const cdp = await chromium.connectOverCDP(running.connect_url);
    const context = cdp.contexts()[0]!;
    const tab = context.pages()[0] ?? (await context.newPage());
    await tab.goto(`http://127.0.0.1:${port}/`);
    await sleep(4000); // frames to record: the progress bar moves meanwhile
    await api('PATCH', `/v1/sessions/${id}`, { status: 'REQUEST_RELEASE' });
    await cdp.close().catch(() => {});
    await eventually(
      'the recording to be saved',
      async () => {
        const status = await api.status('GET', `/v1/sessions/${id}/recording`);
        if (status !== 200 && status !== 409) throw new Error(`GET /v1/sessions/${id}/recording: ${status}`);
        return status === 200;
      },
      patiently,
    );
    return id;
  } finally {
    site.closeAllConnections();
    await new Promise((resolve) => site.close(resolve));
  }
}

/** Fails on anything that says the page did not render: a script error or an error notice. */
function watchForErrors(page: Page): () => void {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // The browser asks for /favicon.ico on its own; the dashboard has none.
    if (msg.type() === 'error' && !msg.location().url.endsWith('/favicon.ico'))
      errors.push(`console error: ${msg.text()} (${msg.location().url})`);
  });
  return () => {
    if (errors.length > 0) throw new Error(errors.join('\n'));
  };
}

async function shoot(page: Page, name: string, check: () => void): Promise<void> {
  await page.evaluate(() => document.fonts.ready);
  const alerts = await page.locator('.notice-error').allTextContents();
  if (alerts.length > 0) throw new Error(`${name}: the page shows an error: ${alerts.join(' | ')}`);
  check();
  await page.screenshot({ path: path.join(OUT, name) });
  console.log(`wrote docs/images/${name}`);
}

async function screenshots(browser: Browser, stack: Stack, key: string, recordedId: string) {
  const page = await (await browser.newContext({ viewport: VIEWPORT })).newPage();
  page.setDefaultTimeout(30_000);
  const check = watchForErrors(page);
  const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name }).waitFor();

  await page.goto(`${stack.url}/dashboard`);
  await page.getByLabel('API key').fill(key);
  await shoot(page, 'dashboard-sign-in.png', check);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await heading('Sessions');

  await page.getByRole('searchbox', { name: 'Search' }).fill('team:checkout');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator(`tr[data-session="${recordedId}"]`).waitFor();
  await eventually(
    'the search to narrow the list',
    async () => (await page.locator('tbody tr[data-session]').count()) === 5,
    patiently,
  );
  await shoot(page, 'dashboard-sessions.png', check);

  await page.getByRole('link', { name: 'New session' }).click();
  await heading('New session');
  await page.getByLabel('Timeout (s)').fill('900');
  await page.getByLabel('Labels').fill('team=billing\nticket=RCM-1043');
  await page.getByLabel('Record the session').check();
  await page.evaluate(() => window.scrollTo(0, document.querySelector('h1')!.offsetTop - 10));
  await shoot(page, 'dashboard-new-session.png', check);

  await page.goto(`${stack.url}/dashboard#/sessions/${recordedId}`);
  await heading(`Session ${recordedId}`);
  const video = page.locator('video.recording');
  await video.waitFor();
  await eventually(
    'the recording to load',
    async () => (await video.evaluate((v: HTMLVideoElement) => v.readyState)) >= 2,
    patiently,
  );
  // A frame from the middle of the recording rather than its first, blank one: played to, since
  // seeking needs the recording served with byte ranges.
  await video.evaluate(async (v: HTMLVideoElement) => {
    v.muted = true;
    await v.play();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    v.pause();
  });
  await page.locator('.marker[data-to="COMPLETED"]').waitFor();
  await page.evaluate(() =>
    window.scrollTo(0, document.getElementById('h-recording')!.getBoundingClientRect().top + scrollY - 40),
  );
  await shoot(page, 'dashboard-session.png', check);

  await page.getByRole('link', { name: 'API keys' }).click();
  await heading('API keys');
  await page.locator('tr[data-api-key]').nth(3).waitFor();
  await shoot(page, 'dashboard-keys.png', check);

  await page.getByRole('link', { name: 'Workspace' }).click();
  await page.locator('[data-limits]').first().waitFor();
  await shoot(page, 'dashboard-workspace.png', check);

  await page.getByRole('link', { name: 'Pools' }).click();
  await heading('Pools');
  await page.locator(`section[data-pool="${POOL}"] svg.chart`).waitFor();
  await page.locator('#np-region').fill('europe-west1');
  await page.locator('#np-max-total').fill('10');
  await page.getByRole('button', { name: 'Create pool' }).click();
  await page.locator('section[data-pool="europe-west1-chromium"]').waitFor();
  await page.getByText('Created europe-west1-chromium.').waitFor();
  await shoot(page, 'dashboard-pools.png', check);
  await page
    .locator(`section[data-pool="${POOL}"]`)
    .evaluate((el: HTMLElement) => window.scrollTo(0, el.offsetTop - 16));
  await shoot(page, 'dashboard-pool-history.png', check);
}

const ctx = await TestContext.create({ minReady: 1, maxTotal: 4 });
let stack: Stack | undefined;
let browser: Browser | undefined;
try {
  const acme = await createWorkspace(ctx.db, 'acme');
  const globex = await createWorkspace(ctx.db, 'globex');
  await seedHistory(ctx, acme.id);
  stack = await ctx.startStack();
  const { apiKey } = await createApiKey(
    ctx.db,
    acme.id,
    ['sessions:read', 'sessions:write', 'audit:read', 'keys:admin', 'operator'],
    'platform admin',
  );
  await createApiKey(ctx.db, acme.id, ['sessions:read', 'sessions:write'], 'ci runner');
  await createApiKey(ctx.db, acme.id, ['sessions:read', 'audit:read'], 'reporting');
  const lost = await createApiKey(ctx.db, acme.id, ['sessions:read', 'sessions:write'], 'laptop (lost)');
  const api = apiFor(stack, apiKey);
  await api('DELETE', `/v1/keys/${lost.keyId}`);
  await api('PATCH', `/v1/workspaces/${globex.id}/limits`, { live_sessions: 50, profiles: 20 });

  const recordedId = await recordedSession(stack, api);
  const live = [];
  for (const labels of [
    { team: 'billing', ticket: 'RCM-1041' },
    { team: 'checkout', job: 'nightly-crawl' },
  ])
    live.push(await api<{ id: string }>('POST', '/v1/sessions', { labels, viewport: VIEWPORT }));
  for (const { id } of live)
    await eventually(
      `session ${id} to run`,
      async () => (await api<{ status: string }>('GET', `/v1/sessions/${id}`)).status === 'RUNNING',
      patiently,
    );

  browser = await chromium.launch({ ...VIEWER_LAUNCH, headless: true });
  await screenshots(browser, stack, apiKey, recordedId);
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await browser?.close();
  await stack?.close();
  await ctx.close();
}
