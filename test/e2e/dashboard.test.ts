/**
 * The dashboard at /dashboard, driven by Debian's Chromium (playwright-core, never a downloaded
 * browser) against the whole running service: sign in, sessions list with title-case labels, a
 * session page, release, XSS-proof labels, the pools page for operators only, keyboard sign-in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { VIEWER_LAUNCH } from '../support/live-view-page.ts';
import type { Stack } from '../../stack/stack.ts';

const XSS = '<img src=x onerror="window.__xss=1">';

describe('the dashboard', () => {
  let ctx: TestContext;
  let stack: Stack;
  let browser: Browser;
  let userKey: string;
  let operatorKey: string;
  let api: ApiClient;
  let sessionId: string;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 1, maxTotal: 4 });
    stack = await ctx.startStack();
    userKey = (await ctx.seedKey(['sessions:read', 'sessions:write', 'audit:read'])).apiKey;
    operatorKey = (await ctx.seedKey(['operator'])).apiKey;
    api = new ApiClient(stack.url, userKey);
    browser = await chromium.launch({ ...VIEWER_LAUNCH, headless: true });
    const created = await api.createSession({ labels: { team: 'e2e', note: XSS } });
    sessionId = created.body.id;
    await api.waitFor(sessionId, ['RUNNING']);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await ctx?.close();
  });

  async function openPage(): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    page.on('dialog', (dialog) => void dialog.dismiss());
    return page;
  }

  async function signIn(page: Page, key: string): Promise<void> {
    await page.goto(`${stack.url}/dashboard`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sessions' }).waitFor();
  }

  it('is served with a strict CSP and stays out of /openapi.json', async () => {
    const res = await fetch(`${stack.url}/dashboard`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/dashboard'))).toEqual([]);
    expect((await fetch(`${stack.url}/dashboard/..%2Fdashboard.plugin.ts`)).status).toBe(404);
  });

  it('signs in with only the keyboard and lists the RUNNING session as "Running"', async () => {
    const page = await openPage();
    await page.goto(`${stack.url}/dashboard`);
    // The sign-in field has focus on arrival; Tab reaches the button, Enter presses it.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('api-key');
    await page.keyboard.type(userKey);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Sign in');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Sessions' }).waitFor();
    const row = page.locator(`tr[data-session="${sessionId}"]`);
    await expect.poll(() => row.locator('.badge').textContent()).toBe('Running');
    // The key is never rendered, nor put in a URL.
    expect(await page.content()).not.toContain(userKey);
    expect(page.url()).not.toContain(userKey);
    // Focus is visible: the focused element draws an outline.
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    await page.context().close();
  });

  it('shows the session page with transitions and labels; a label is text, never markup', async () => {
    const page = await openPage();
    await signIn(page, userKey);
    await page.locator(`a[href="#/sessions/${sessionId}"]`).click();
    await page.getByRole('heading', { level: 1, name: `Session ${sessionId}` }).waitFor();
    const transitions = page.locator('section[aria-labelledby="h-transitions"] tbody tr');
    await expect.poll(() => transitions.count()).toBeGreaterThanOrEqual(3);
    const toColumn = await transitions.locator('td:nth-child(3)').allTextContents();
    expect(toColumn).toEqual(expect.arrayContaining(['Queued', 'Provisioning', 'Running']));
    const labels = page.locator('section[aria-labelledby="h-labels"]');
    await expect
      .poll(() => labels.locator('tr', { hasText: 'team' }).locator('td').textContent())
      .toBe('e2e');
    expect(await labels.locator('tr', { hasText: 'note' }).locator('td').textContent()).toBe(XSS);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    // Audit rows (audit:read) name the session's creation.
    await expect
      .poll(() => page.locator('section[aria-labelledby="h-audit"]').textContent())
      .toContain('session.');
    // The live view is embedded: a frame on the session's live_view_url (origin and path).
    const src = await page.locator('.live-view iframe').getAttribute('src');
    const url = new URL(src!);
    expect(url.origin).toBe(new URL(stack.url).origin);
    expect(url.pathname).toBe(`/v/${sessionId}`);
    expect(await page.locator('main').innerText()).not.toContain('token=');
    // Interactive control is the live-view route's (its own tests check input reaches the page):
    // here, the button loads the link it returns into the frame, or shows the refusal's detail.
    await page.getByRole('button', { name: 'Request interactive control' }).click();
    const outcome = page.locator('section[aria-labelledby="h-live"] .notice');
    await expect.poll(() => outcome.textContent()).toMatch(/Interactive control (granted|refused)/);
    if ((await outcome.textContent())!.includes('granted')) {
      expect(await page.locator('.live-view iframe').getAttribute('data-mode')).toBe('interactive');
      expect(new URL((await page.locator('.live-view iframe').getAttribute('src'))!).pathname).toBe(
        `/v/${sessionId}`,
      );
    }

    await page.getByRole('button', { name: 'Release session' }).click();
    await expect.poll(() => page.locator('.details .badge').textContent()).toBe('Released');
    expect((await api.getSession(sessionId)).body.status).toBe('COMPLETED');
    await page.locator('a', { hasText: 'All sessions' }).click();
    const row = page.locator(`tr[data-session="${sessionId}"]`);
    await expect.poll(() => row.locator('.badge').textContent()).toBe('Released');
    // The status filter is the API's: only Running sessions leaves this one out.
    await page.getByLabel('Running', { exact: true }).check();
    await expect.poll(() => row.count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await page.context().close();
  });

  it('lets an operator change min_ready on the pools page and see the figure change', async () => {
    const page = await openPage();
    await signIn(page, operatorKey);
    await page.getByRole('link', { name: 'Pools' }).click();
    await page.getByRole('heading', { level: 1, name: 'Pools' }).waitFor();
    const pool = page.locator('section[data-pool="us-east1-chromium"]');
    const figure = (name: string) => pool.locator(`dd[data-figure="${name}"]`);
    await expect.poll(() => figure('min_ready').textContent()).toBe('1');
    await pool.getByLabel(/^min_ready/).fill('2');
    await pool.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => figure('min_ready').textContent()).toBe('2');
    await expect
      .poll(
        async () =>
          Number(await figure('ready').textContent()) + Number(await figure('warming').textContent()),
        {
          timeout: 20_000,
        },
      )
      .toBe(2);
    // The change reached the API, and the chart and the advice are drawn next to the editor.
    const operator = new ApiClient(stack.url, operatorKey);
    expect(
      (await operator.request<{ min_ready: number }>('GET', '/v1/pools/us-east1-chromium')).body.min_ready,
    ).toBe(2);
    await pool.locator('svg.chart').waitFor();
    await expect
      .poll(() => pool.locator('form[aria-labelledby$="-advice"]').innerText())
      .toMatch(/max_total|traffic/i);
    await page.context().close();
  });

  it('does not give a non-operator key the pools editor', async () => {
    const page = await openPage();
    await signIn(page, userKey);
    expect(await page.getByRole('link', { name: 'Pools' }).isVisible()).toBe(false);
    await page.goto(`${stack.url}/dashboard#/pools`);
    await page.getByText('needs an API key with the operator scope').waitFor();
    expect(await page.locator('input[id$="min-ready"]').count()).toBe(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.context().close();
  });

  it("lets an operator set a workspace's limits, and an owner its recording retention", async () => {
    const owner = await ctx.seedKey(['sessions:read', 'keys:admin']);
    const ownerApi = new ApiClient(stack.url, owner.apiKey);
    const name = (await ownerApi.request<{ name: string }>('GET', '/v1/workspace')).body.name;
    const page = await openPage();
    await signIn(page, operatorKey);
    await page.getByRole('link', { name: 'Workspace' }).click();
    await page.getByRole('heading', { level: 1, name: 'Workspace' }).waitFor();
    const editor = page.locator(`form[data-workspace="${name}"]`);
    await editor.getByLabel('Live sessions').fill('3');
    await editor.getByLabel(/Maximum session lifetime/).fill('7200');
    await editor.getByRole('button', { name: 'Save limits' }).click();
    await editor.getByText(`Saved limits of ${name}.`).waitFor();
    const limits = (await ownerApi.request<{ limits: Record<string, number | null> }>('GET', '/v1/workspace'))
      .body.limits;
    expect(limits).toMatchObject({ live_sessions: 3, max_session_lifetime_seconds: 7200 });
    await page.context().close();

    const ownerPage = await openPage();
    await signIn(ownerPage, owner.apiKey);
    await ownerPage.getByRole('link', { name: 'Workspace' }).click();
    await ownerPage.locator('dd[data-limit="live_sessions"]').getByText('3').waitFor();
    expect(await ownerPage.locator('form[data-workspace]').count()).toBe(0);
    await ownerPage.getByLabel(/Keep recordings for/).fill('400');
    await ownerPage.getByRole('button', { name: 'Save retention' }).click();
    await ownerPage.getByText('Saved: recordings are kept 400 days.').waitFor();
    expect(
      (await ownerApi.request<{ recording_retention_days: number }>('GET', '/v1/workspace')).body
        .recording_retention_days,
    ).toBe(400);
    await ownerPage.context().close();
  });
});
