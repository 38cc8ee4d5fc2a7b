/**
 * storage_state with real Chromium: restored before RUNNING (inline or from a profile) without
 * touching the user's page, snapshotted from a live session into a profile ("profiles that learn"),
 * encrypted at rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { LOGIN, serveLocalSite, type LocalSite } from '../support/local-page.ts';
import { ALL } from '../support/profile-fixtures.ts';

interface Snapshot {
  profile_id: string;
  version: number;
  captured: { cookies: number; origins: { origin: string; local_storage_items: number }[] };
}

describe('storage_state against a real browser', { timeout: 120_000 }, () => {
  let ctx: TestContext;
  let stack: Awaited<ReturnType<TestContext['startStack']>>;
  let api: ApiClient;
  let site: LocalSite;
  const browsers: Browser[] = [];

  beforeAll(async () => {
    // The test site's origin is 127.0.0.1, which a storage_state may name only when allowed.
    ctx = await TestContext.create({
      minReady: 2,
      maxTotal: 4,
      env: { VENTUS_ALLOW_PRIVATE_TARGETS: 'true' },
    });
    stack = await ctx.startStack();
    api = new ApiClient(stack.url, (await ctx.seedKey(ALL)).apiKey);
    site = await serveLocalSite();
  }, 120_000);
  afterAll(async () => {
    for (const b of browsers) await b.close().catch(() => undefined);
    await site?.close();
    await stack?.close();
    await ctx?.close();
  });

  async function connect(connectUrl: string): Promise<Browser> {
    const browser = await chromium.connectOverCDP(connectUrl);
    browsers.push(browser);
    return browser;
  }

  /** Waits until the pool has a warm pod, so the next session is served from it. */
  async function warmPodReady(): Promise<void> {
    await expect
      .poll(async () => (await stack.services.warmPods.ids('us-east1-chromium')).length, {
        timeout: 30_000,
      })
      .toBeGreaterThan(0);
  }

  async function running(body: Record<string, unknown>) {
    const created = await api.createSession({ keep_alive_seconds: 120, ...body });
    expect(created.status).toBe(202);
    return api.waitFor(created.body.id, ['RUNNING'], 60_000);
  }

  const snapshot = (sessionId: string, body: Record<string, unknown>) =>
    api.request<Snapshot>('POST', `/v1/sessions/${sessionId}/profile-snapshot`, { body });

  it("a profile snapshotted from session A's login makes session B (warm pool) logged in", async () => {
    await warmPodReady();
    const a = await running({});
    const browserA = await connect(a.connect_url);
    const pageA = browserA.contexts()[0]!.pages()[0] ?? (await browserA.contexts()[0]!.newPage());
    await pageA.goto(`${site.url}/login`);
    expect(await pageA.evaluate(() => localStorage.getItem('auth_token'))).toBe(LOGIN.localStorage);

    const snap = await snapshot(a.id, { name: `login-${Date.now()}` });
    expect(snap.status).toBe(201);
    expect(snap.headers.get('location')).toBe(`/v1/profiles/${snap.body.profile_id}/versions/1`);
    expect(snap.body.captured.cookies).toBeGreaterThanOrEqual(1);
    expect(snap.body.captured.origins).toEqual([{ origin: site.url, local_storage_items: 1 }]);
    expect(JSON.stringify(snap.body)).not.toMatch(/secret/);
    await api.release(a.id);

    // Encrypted at rest: the row holds neither value, only a sealed envelope.
    const { rows } = await ctx.db.query<{ s: string }>(
      'SELECT storage_state::text AS s FROM profile_versions WHERE profile_id = $1',
      [snap.body.profile_id],
    );
    expect(rows[0]!.s).toContain('ciphertext');
    expect(rows[0]!.s).not.toContain(LOGIN.cookie);
    expect(rows[0]!.s).not.toContain(LOGIN.localStorage);

    await warmPodReady();
    const b = await running({ profile_id: snap.body.profile_id });
    const view = await api.getSession(b.id);
    expect(view.body).toMatchObject({
      profile_version: 1,
      restored_state: { origins: [{ origin: site.url, local_storage_items: 1 }] },
    });
    expect(JSON.stringify(view.body)).not.toMatch(/secret/);

    const browserB = await connect(b.connect_url);
    const pageB = await browserB.contexts()[0]!.newPage();
    await pageB.goto(`${site.url}/account`);
    expect(await pageB.textContent('#state')).toBe('Logged in as Ada');
    expect(await pageB.evaluate(() => localStorage.getItem('auth_token'))).toBe(LOGIN.localStorage);
    await api.release(b.id);
  });

  it('inline storage_state is applied before RUNNING without navigating the user’s page', async () => {
    const requestsBefore = site.userAgents.length;
    const s = await running({
      storage_state: {
        cookies: [
          { name: 'inline', value: 'v1', domain: '127.0.0.1', path: '/', expires: -1, sameSite: 'Lax' },
          { name: 'second', value: 'v2', url: site.url },
        ],
        origins: [
          {
            origin: site.url,
            localStorage: [
              { name: 'a', value: '1' },
              { name: 'b', value: '2' },
            ],
          },
        ],
      },
    });
    expect(s).toMatchObject({
      restored_state: { cookies: 2, origins: [{ origin: site.url, local_storage_items: 2 }] },
    });
    // Restoring localStorage never reached the site: the helper tab's requests are answered locally.
    expect(site.userAgents.length).toBe(requestsBefore);

    const browser = await connect(s.connect_url);
    const pages = browser.contexts()[0]!.pages();
    expect(pages.map((p) => p.url())).toEqual(['about:blank']);
    const page = pages[0]!;
    await page.goto(`${site.url}/`);
    expect(await page.evaluate(() => document.cookie.split('; ').sort())).toEqual(['inline=v1', 'second=v2']);
    expect(await page.evaluate(() => [localStorage.getItem('a'), localStorage.getItem('b')])).toEqual([
      '1',
      '2',
    ]);
    await api.release(s.id);
  });

  it('two concurrent snapshots with the same expected_version: one 201, one 409', async () => {
    const s = await running({});
    const browser = await connect(s.connect_url);
    await (await browser.contexts()[0]!.newPage()).goto(`${site.url}/login`);
    const first = await snapshot(s.id, { name: `race-${Date.now()}` });
    expect(first.status).toBe(201);
    const body = { profile_id: first.body.profile_id, expected_version: 1 };
    const results = await Promise.all([snapshot(s.id, body), snapshot(s.id, body)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const stale = await snapshot(s.id, body);
    expect(stale.status).toBe(409);
    const latest = await api.request<{ latest_version: number }>(
      'GET',
      `/v1/profiles/${first.body.profile_id}`,
    );
    expect(latest.body.latest_version).toBe(2);
    await api.release(s.id);

    const ended = await snapshot(s.id, { profile_id: first.body.profile_id });
    expect(ended.status).toBe(409);
  });
});
