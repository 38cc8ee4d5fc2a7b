/**
 * The API reference at /docs, in Debian's Chromium (playwright-core): a newcomer finds the
 * create-session operation and reads its fields' descriptions, and the page works offline: every
 * request it makes goes to the service itself (no CDN, no font host, no telemetry).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { TestContext } from '../support/test-context.ts';
import { VIEWER_LAUNCH } from '../support/live-view-page.ts';
import { eventually } from '../support/eventually.ts';

describe('the API reference at /docs', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let browser: Browser;

  beforeAll(async () => {
    ctx = await TestContext.create();
    server = await ctx.startApi();
    browser = await chromium.launch({ ...VIEWER_LAUNCH, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await ctx?.close();
  });

  it('shows the create-session operation with its field descriptions, asking nothing of any other host', async () => {
    const page = await browser.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const res = await page.goto(`${server.url}/docs`);
    expect(res?.status()).toBe(200);

    // As a reader would: open the sessions group in the sidebar, then the operation.
    await page.getByText('sessions', { exact: true }).first().click();
    await page.getByText('Create a session', { exact: true }).first().click();
    const body = page.locator('body');
    await eventually('the create-session fields and their descriptions', async () => {
      const text = await body.innerText();
      expect(text).toContain('POST/v1/sessions');
      expect(text).toContain('keep_alive_seconds');
      expect(text).toContain('How long the session waits for a CDP client to reconnect');
      expect(text).toContain("The session's whole lifetime, 60 to 86400 s");
      return true;
    });

    const origin = new URL(server.url).origin;
    const elsewhere = requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'));
    expect(elsewhere).toEqual([]);
    expect(requested).toContain(`${origin}/openapi.json`);
    await page.close();
  });
});
