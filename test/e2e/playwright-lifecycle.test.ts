import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { serveLocalSite, type LocalSite } from '../support/local-page.ts';
import { testLocalDriver } from '../support/local-driver.ts';
import type { Stack } from '../../stack/stack.ts';

describe('a real browser session with Playwright', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;
  let site: LocalSite;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 1, maxTotal: 3 });
    stack = await ctx.startStack();
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
    site = await serveLocalSite();
  });

  afterAll(async () => {
    await site?.close();
    await stack?.close();
    await ctx?.close();
  });

  it('create -> RUNNING -> connectOverCDP -> title -> disconnect -> COMPLETED (cdp_disconnect), pod gone', async () => {
    const created = await api.createSession({
      viewport: { width: 800, height: 600 },
      user_agent: 'VentusE2E/1.0',
    });
    expect(created.status).toBe(202);
    expect(created.body.status).toBe('QUEUED');
    const running = await api.waitFor(created.body.id, ['RUNNING']);
    const session = await stack.services.db.query<{ pod_id: string }>(
      'SELECT pod_id FROM sessions WHERE id = $1',
      [running.id],
    );
    const podId = session.rows[0]!.pod_id;
    const podDir = testLocalDriver(path.join(ctx.dataDir, 'pods')).rootOf(podId);
    expect(existsSync(path.join(podDir, 'user-data'))).toBe(true);

    const browser = await chromium.connectOverCDP(running.connect_url);
    const context = browser.contexts()[0]!;
    const page = await context.newPage();
    await page.goto(`${site.url}/`);
    expect(await page.title()).toBe('Ventus test page');
    expect(await page.evaluate(() => [innerWidth, innerHeight, navigator.userAgent])).toEqual([
      800,
      600,
      'VentusE2E/1.0',
    ]);
    expect(site.userAgents.at(-1)).toBe('VentusE2E/1.0');
    await browser.close();

    const ended = await api.waitFor(running.id, ['COMPLETED', 'EXPIRED', 'ERRORED']);
    expect(ended.status).toBe('COMPLETED');
    expect(ended.release_reason).toBe('cdp_disconnect');
    expect(ended.released_at).not.toBeNull();
    // The pod's root goes first, its record last (a delete cut short is found and retried): wait for both.
    await expect.poll(() => existsSync(podDir), { timeout: 15_000 }).toBe(false);
    await expect.poll(() => stack.driver.getPod(podId), { timeout: 15_000 }).toBeUndefined();
  });
});
