/**
 * The dashboard's workflows in Debian's Chromium (playwright-core) against the whole running
 * service: find a session by id among 200 (newest first, search), create one from the "New session"
 * form, play its recording in the page with the transitions' timeline, and create and revoke an API
 * key on the keys page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { VIEWER_LAUNCH } from '../support/live-view-page.ts';
import { listenOnPagePort } from '../support/page-ports.ts';
import { newId } from '../../core/domain/ids.ts';
import type { Stack } from '../../stack/stack.ts';

/** A page that repaints continuously, so the recording has frames. */
const ANIMATED = `<!doctype html><title>moving</title><body style="margin:0;background:#135">
<div id="box" style="position:absolute;top:40px;width:80px;height:80px;background:#fc0"></div>
<script>let x = 0; setInterval(() => { x = (x + 9) % 900; box.style.left = x + 'px'; }, 30);</script>`;

describe('dashboard workflows', () => {
  let ctx: TestContext;
  let stack: Stack;
  let browser: Browser;
  let key: string;
  let api: ApiClient;
  let site: http.Server;
  let siteUrl: string;
  const seeded: string[] = [];

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 1, maxTotal: 3 });
    stack = await ctx.startStack();
    ({ apiKey: key } = await ctx.seedKey(['sessions:read', 'sessions:write', 'audit:read', 'keys:admin']));
    api = new ApiClient(stack.url, key);
    const workspaceId = (
      await ctx.db.query<{ id: string }>('SELECT workspace_id AS id FROM api_keys LIMIT 1')
    ).rows[0]!.id;
    // 200 ended sessions of this workspace (seeded as rows: 200 real browsers would prove nothing more).
    for (let i = 0; i < 200; i += 1) seeded.push(newId());
    await ctx.db.query(
      `INSERT INTO sessions (id, workspace_id, pool, status, region, runtime_kind, timeout_seconds,
                             keep_alive_seconds, labels, expires_at, released_at, release_reason)
       SELECT id, $2, 'us-east1-chromium', 'COMPLETED', 'us-east1', 'chromium', 1800, 0,
              jsonb_build_object('batch', 'b-' || n), now(), now(), 'client_release'
         FROM unnest($1::text[]) WITH ORDINALITY AS s(id, n)`,
      [seeded, workspaceId],
    );
    site = http.createServer((_req, res) => res.setHeader('content-type', 'text/html').end(ANIMATED));
    await listenOnPagePort(site);
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
    browser = await chromium.launch({ ...VIEWER_LAUNCH, headless: true });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.close(resolve));
    await stack?.close();
    await ctx?.close();
  });

  async function signedIn(): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${stack.url}/dashboard`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sessions' }).waitFor();
    return page;
  }

  it('lists newest first and finds a session by id among 200, and by label', async () => {
    const page = await signedIn();
    const firstRow = page.locator('tbody tr[data-session]').first();
    await expect.poll(() => firstRow.getAttribute('data-session')).toBe(seeded.at(-1));
    // One far from the first page (25 a page, newest first): only the search finds it.
    const wanted = seeded[37]!;
    expect(await page.locator(`tr[data-session="${wanted}"]`).count()).toBe(0);
    await page.getByRole('searchbox', { name: 'Search' }).fill(wanted);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { level: 1, name: `Session ${wanted}` }).waitFor();
    await page.getByRole('link', { name: '← All sessions' }).click();
    await page.getByRole('searchbox', { name: 'Search' }).fill('batch:b-117');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect
      .poll(() =>
        page
          .locator('tbody tr[data-session]')
          .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-session'))),
      )
      .toEqual([seeded[116]]);
    await page.close();
  });

  it('creates a session from the form, drives it, and plays its recording with the timeline', async () => {
    const page = await signedIn();
    await page.getByRole('link', { name: 'New session' }).click();
    await page.getByLabel('Timeout (s)').fill('600');
    await page.getByLabel('Viewport width').fill('1024');
    await page.getByLabel('Viewport height').fill('640');
    await page.getByLabel('Labels').fill('team=form\nClaim batch=2026-05');
    await page.getByLabel('Record the session').check();
    await page.getByRole('button', { name: 'Create session' }).click();
    await page.waitForURL(/#\/sessions\/[0-9A-Z]{26}$/);
    const id = page.url().split('/').at(-1)!;
    const created = await api.getSession(id);
    expect(created.body).toMatchObject({
      timeout_seconds: 600,
      viewport: { width: 1024, height: 640 },
      labels: { team: 'form', 'Claim batch': '2026-05' },
      recording: { enabled: true },
    });

    const running = await api.waitFor(id, ['RUNNING']);
    const cdp = await chromium.connectOverCDP(running.connect_url);
    const tab = cdp.contexts()[0]!.pages()[0] ?? (await cdp.contexts()[0]!.newPage());
    await tab.goto(siteUrl);
    await tab.waitForTimeout(1500); // frames to record: the page animates meanwhile
    await page.getByRole('button', { name: 'Release session' }).click();
    await cdp.close().catch(() => {});

    const video = page.locator('video.recording');
    await video.waitFor({ timeout: 60_000 });
    // It loads and has a duration; it plays; a timeline marker seeks.
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(2);
    await video.evaluate((v: HTMLVideoElement) => v.play());
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 30_000 })
      .toBeGreaterThan(0);
    const markers = page.locator('.marker[data-to]');
    expect(await markers.evaluateAll((m) => m.map((b) => b.getAttribute('data-to')))).toEqual([
      'QUEUED',
      'PROVISIONING',
      'RUNNING',
      'COMPLETED',
    ]);
    await video.evaluate((v: HTMLVideoElement) => v.pause());
    // The end's marker seeks forward: the recording is served with byte ranges, so the player can seek.
    const end = await video.evaluate((v: HTMLVideoElement) => v.duration);
    await page.locator('.marker[data-to="COMPLETED"]').click();
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime))
      .toBeGreaterThan(Math.min(end, 1.5) - 0.5);
    await markers.filter({ hasText: 'Running' }).click();
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime)).toBeLessThan(0.5);
    await page.close();
  });

  it('creates an API key with chosen scopes, shows its secret once, and revokes it', async () => {
    const page = await signedIn();
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    await page.getByLabel('Name (for people)').fill('reporting');
    await page.getByLabel('sessions:write').uncheck();
    await page.getByLabel('audit:read').check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = await page.locator('#new-key-secret').inputValue();
    expect(secret).toMatch(/^vs_[0-9A-Z]{26}\./);
    const keyId = secret.slice(3, secret.indexOf('.'));
    const row = page.locator(`tr[data-api-key="${keyId}"]`);
    await expect.poll(() => row.textContent()).toContain('sessions:read audit:read');
    const client = new ApiClient(stack.url, secret);
    expect((await client.request('GET', '/v1/sessions?limit=1')).status).toBe(200);
    expect((await client.createSession()).status).toBe(403);

    await row.getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => row.textContent()).toContain('Revoked');
    expect((await client.request('GET', '/v1/sessions?limit=1')).status).toBe(401);
    await page.close();
  });
});
