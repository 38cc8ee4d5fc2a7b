/**
 * Live view of a headless session: no desktop, so the pod agent serves the page's CDP screencast as
 * VNC (Tight JPEG rectangles) on the same `/vnc` WebSocket; the proxy and viewer are the same.
 * Watch-only: an interactive link is refused (409 live-view-unavailable).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TestContext } from '../support/test-context.ts';
import { ApiClient, type SessionBody } from '../support/api-client.ts';
import { canvasStats, serveTargetPage, VIEWER_LAUNCH } from '../support/live-view-page.ts';
import type { Stack } from '../../stack/stack.ts';

describe('live view of a headless session (screencast)', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;
  let site: Awaited<ReturnType<typeof serveTargetPage>>;
  let viewerBrowser: Browser;
  let automation: Browser;
  let target: Page;
  let session: SessionBody;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 0, maxTotal: 2, env: { VENTUS_HEADLESS: 'true' } });
    stack = await ctx.startStack();
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
    site = await serveTargetPage();
    viewerBrowser = await chromium.launch(VIEWER_LAUNCH);
    const created = await api.createSession({ viewport: { width: 1000, height: 700 } });
    session = await api.waitFor(created.body.id, ['RUNNING'], 60_000);
    automation = await chromium.connectOverCDP(session.connect_url);
    const context = automation.contexts()[0]!;
    target = context.pages()[0] ?? (await context.newPage());
    await target.goto(site.url);
  });

  afterAll(async () => {
    await viewerBrowser?.close();
    await automation?.close().catch(() => {});
    await site?.close();
    await stack?.close();
    await ctx?.close();
  });

  it("shows the page's screencast, ignores input, refuses an interactive link, ends with the session", async () => {
    const interactive = await api.request('POST', `/v1/sessions/${session.id}/live-view`, {
      body: { interactive: true },
    });
    expect(interactive.status).toBe(409);
    expect(interactive.body.type).toMatch(/\/live-view-unavailable$/);
    const link = await api.request<{ live_view_url: string }>('POST', `/v1/sessions/${session.id}/live-view`);
    expect(link.status).toBe(200);

    const viewer = await viewerBrowser.newPage({ viewport: { width: 1280, height: 800 } });
    await viewer.goto(link.body.live_view_url);
    await expect.poll(() => viewer.locator('#status').textContent(), { timeout: 20_000 }).toBe('Live');
    await expect
      .poll(async () => (await canvasStats(viewer)).background, { timeout: 20_000 })
      .toBeGreaterThan(0.3);
    const stats = await canvasStats(viewer);
    // The framebuffer is the page itself (its viewport), not a desktop.
    expect([stats.width, stats.height]).toEqual([1000, 700]);
    expect(stats.text).toBeGreaterThan(0.01);
    expect(stats.button).toBeGreaterThan(0.05);

    // A change the automation makes shows up live.
    await target.evaluate(() => (document.body.style.background = 'rgb(20, 20, 220)'));
    await expect
      .poll(async () => (await canvasStats(viewer)).background, { timeout: 10_000 })
      .toBeLessThan(0.05);

    await viewer.evaluate(() => {
      (window as unknown as { ventusLiveView: { rfb: { viewOnly: boolean } } }).ventusLiveView.rfb.viewOnly =
        false;
    });
    await viewer.mouse.click(stats.buttonAt!.x, stats.buttonAt!.y);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await target.evaluate(() => (window as unknown as { clicks?: number }).clicks ?? 0)).toBe(0);

    expect((await api.release(session.id)).status).toBe(200);
    await expect
      .poll(() => viewer.locator('#status').textContent(), { timeout: 15_000 })
      .toBe('Session ended');
  });
});
