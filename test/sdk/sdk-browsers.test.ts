/** The SDK against the real local service: create with wait, drive with Playwright and Puppeteer, `await using`. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VentusClient } from '../../sdk/src/index.ts';
import { connectOverCDP } from '../../sdk/src/playwright.ts';
import { connect } from '../../sdk/src/puppeteer.ts';
import { TestContext } from '../support/test-context.ts';
import { serveLocalSite, type LocalSite } from '../support/local-page.ts';
import type { Stack } from '../../stack/stack.ts';

describe('SDK: sessions driven by Playwright and Puppeteer', () => {
  let ctx: TestContext;
  let stack: Stack;
  let client: VentusClient;
  let site: LocalSite;
  let apiKey: string;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 1, maxTotal: 3, env: { VENTUS_HEADLESS: 'true' } });
    stack = await ctx.startStack();
    ({ apiKey } = await ctx.seedKey());
    client = new VentusClient({ baseUrl: stack.url, apiKey });
    site = await serveLocalSite();
  });

  afterAll(async () => {
    await site?.close();
    await stack?.close();
    await ctx?.close();
  });

  it('createSession({wait: true}) is RUNNING; Playwright drives it; `await using` releases it on scope exit', async () => {
    let id: string;
    {
      // keep_alive_seconds > 0: the disconnect below does not end the session, so the release is the scope's.
      await using session = await client.createSession(
        { viewport: { width: 800, height: 600 }, keep_alive_seconds: 60 },
        { wait: true },
      );
      id = session.id;
      expect(session.status).toBe('RUNNING');
      expect(session.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
      const browser = await connectOverCDP(session);
      const page = await browser.contexts()[0]!.newPage();
      await page.goto(`${site.url}/`);
      expect(await page.title()).toBe('Ventus test page');
      expect(await page.evaluate(() => [innerWidth, innerHeight])).toEqual([800, 600]);
      await browser.close();
      expect((await session.refresh()).status).toBe('RUNNING');
    }
    const ended = await client.getSession(id);
    expect(ended.status).toBe('COMPLETED');
    expect(ended.release_reason).toBe('client_release');
  });

  it('Puppeteer connects through the helper and keeps the session viewport (defaultViewport: null)', async () => {
    await using session = await client.createSession(
      { viewport: { width: 1024, height: 700 } },
      { wait: true },
    );
    const browser = await connect(session);
    const page = await browser.newPage();
    await page.goto(`${site.url}/`);
    expect(await page.title()).toBe('Ventus test page');
    expect(await page.evaluate(() => [innerWidth, innerHeight])).toEqual([1024, 700]);
    const extended = await session.keepAlive(120);
    expect(Date.parse(extended.expires_at)).toBeGreaterThan(Date.now() + 100_000);
    await browser.disconnect();
  });

  it('`await using` releases the session when the body throws', async () => {
    let id: string | undefined;
    const body = async () => {
      await using session = await client.createSession({ keep_alive_seconds: 60 }, { wait: true });
      id = session.id;
      throw new Error('automation failed');
    };
    await expect(body()).rejects.toThrow('automation failed');
    const ended = await client.getSession(id!);
    expect(ended.status).toBe('COMPLETED');
    expect(ended.release_reason).toBe('client_release');
  });

  it('the TypeScript examples in sdk/examples run against the service (tsx)', async () => {
    const env = { ...process.env, VENTUS_BASE_URL: stack.url, VENTUS_API_KEY: apiKey };
    const run = (file: string, ...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', `sdk/examples/${file}`, ...args], { env });
    for (const file of ['playwright.ts', 'puppeteer.ts']) {
      expect((await run(file, `${site.url}/`)).stdout).toContain('title: Ventus test page');
    }
    // Every session the examples made was released on scope exit.
    for await (const s of client.listSessions()) expect(s.status).toBe('COMPLETED');
  });
});
