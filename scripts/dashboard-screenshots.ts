/**
 * Screenshots of the dashboard for the README and docs/dashboard.md: starts the whole service on a
 * scratch database and Redis prefix (as `npm run bench` does), creates a few sessions, lets the pool
 * history fill for a while, and saves PNGs of the sign-in, sessions list, session page and pools page
 * into docs/images/. Uses Debian's Chromium (/usr/bin/chromium); downloads nothing.
 *
 *   node --import tsx scripts/dashboard-screenshots.ts [--history-seconds 60]
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { startScratchStack } from '../load-tests/scratch-stack.ts';
import { VIEWER_LAUNCH } from '../test/support/live-view-page.ts';

const POOL = 'us-east1-chromium';
const OUT = fileURLToPath(new URL('../docs/images/', import.meta.url));
const { values } = parseArgs({ options: { 'history-seconds': { type: 'string', default: '60' } } });
const historyMs = Number(values['history-seconds']) * 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const scratch = await startScratchStack(
  { VENTUS_POOL_MIN_READY: '2', VENTUS_POOL_MAX_TOTAL: '6', VENTUS_RECONCILE_INTERVAL_MS: '200' },
  ['operator'],
);
const { stack, headers } = scratch;
const apiKey = headers.authorization!.slice('Bearer '.length);
const call = async <T>(method: string, url: string, body?: unknown, extra: Record<string, string> = {}) => {
  const res = await fetch(stack.url + url, {
    method,
    headers: { ...headers, ...extra },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
};
const create = (labels: Record<string, string>) =>
  call<{ id: string }>(
    'POST',
    '/v1/sessions',
    { labels, viewport: { width: 1280, height: 800 } },
    {
      'idempotency-key': crypto.randomUUID(),
    },
  );
const waitRunning = async (id: string) => {
  for (let i = 0; i < 300; i++) {
    if ((await call<{ status: string }>('GET', `/v1/sessions/${id}`)).status === 'RUNNING') return;
    await sleep(100);
  }
  throw new Error(`session ${id} did not start`);
};

const browser = await chromium.launch({ ...VIEWER_LAUNCH, headless: true });
try {
  await mkdir(OUT, { recursive: true });
  // Some traffic, spread over the history window, so the pools chart has a shape.
  const checkout = await create({ team: 'checkout', job: 'nightly-crawl' });
  const billing = await create({ team: 'billing', ticket: 'RCM-1042' });
  await waitRunning(checkout.id);
  await waitRunning(billing.id);
  await sleep(historyMs / 3);
  const extra = await create({ team: 'checkout', job: 'smoke' });
  await waitRunning(extra.id);
  await call('PATCH', `/v1/sessions/${billing.id}`, { status: 'REQUEST_RELEASE' });
  await sleep(historyMs / 3);
  await call('PATCH', `/v1/pools/${POOL}`, { min_ready: 3 });
  await sleep(historyMs / 3);

  // The driving page is the one the live view shows.
  const cdp = await chromium.connectOverCDP(
    (await call<{ connect_url: string }>('GET', `/v1/sessions/${checkout.id}`)).connect_url,
  );
  const driven = await cdp.contexts()[0]!.newPage();
  await driven.setContent(
    '<h1 style="font:48px sans-serif;margin:3em">Order #1042 — checkout step 2 of 3</h1>',
  );

  const page: Page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const shot = (name: string) => page.screenshot({ path: path.join(OUT, name), fullPage: true });
  await page.goto(`${stack.url}/dashboard`);
  await page.getByLabel('API key').waitFor();
  await shot('dashboard-sign-in.png');
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator(`tr[data-session="${checkout.id}"]`).waitFor();
  await sleep(500);
  await shot('dashboard-sessions.png');
  await page.locator(`a[href="#/sessions/${checkout.id}"]`).click();
  await page.locator('section[aria-labelledby="h-transitions"] tbody tr').first().waitFor();
  await sleep(4000); // the viewer connects and draws the desktop
  await shot('dashboard-session.png');
  await page.getByRole('link', { name: 'Pools' }).click();
  await page.locator('svg.chart').waitFor();
  await page
    .locator('table.advice')
    .waitFor({ timeout: 10_000 })
    .catch(() => {});
  await sleep(500);
  await shot('dashboard-pools.png');
  await cdp.close();
  console.log(`screenshots written to ${OUT}`);
} finally {
  await browser.close();
  // Held pods outlive the service (they belong to their sessions): end the sessions, remove the pods.
  const live = await call<{ items: { id: string }[] }>(
    'GET',
    '/v1/sessions?status=QUEUED,PROVISIONING,RUNNING',
  );
  for (const s of live.items) await call('PATCH', `/v1/sessions/${s.id}`, { status: 'REQUEST_RELEASE' });
  // Workers tear the released sessions' pods down; the warm ones go with the service.
  const pools = stack.services.pools;
  for (let i = 0; i < 150; i++) {
    const unheld = new Set([...(await pools.warmIds(POOL)), ...(await pools.startingIds(POOL))]);
    if ((await stack.driver.listPods()).every((pod) => unheld.has(pod.id))) break;
    await sleep(100);
  }
  await scratch.close();
}
