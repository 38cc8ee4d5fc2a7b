import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import puppeteer from 'puppeteer-core';
import { chromium } from 'playwright-core';
import { Queue } from 'bullmq';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { serveLocalSite, type LocalSite } from '../support/local-page.ts';
import { jobIds } from '../../core/queue/jobs.ts';
import type { Stack } from '../../stack/stack.ts';

/** Opens a raw WebSocket; resolves with the HTTP status of a refused upgrade, or 101 when it opens. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

describe('session lifecycle against a real browser', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;
  let site: LocalSite;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 2, maxTotal: 4 });
    stack = await ctx.startStack();
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
    site = await serveLocalSite();
  });
  afterAll(async () => {
    await site?.close();
    await stack?.close();
    await ctx?.close();
  });

  async function podDirOf(sessionId: string): Promise<string> {
    const { rows } = await ctx.db.query<{ pod_id: string }>('SELECT pod_id FROM sessions WHERE id = $1', [
      sessionId,
    ]);
    return path.join(ctx.dataDir, 'pods', rows[0]!.pod_id);
  }

  it('Puppeteer connect({browserWSEndpoint}) drives the session; disconnect releases it and deletes the pod', async () => {
    const created = await api.createSession({ viewport: { width: 1024, height: 700 } });
    const running = await api.waitFor(created.body.id, ['RUNNING']);
    const podDir = await podDirOf(running.id);
    // defaultViewport: null keeps the session's viewport (Puppeteer otherwise forces 800x600 on its pages).
    const browser = await puppeteer.connect({
      browserWSEndpoint: running.connect_url,
      defaultViewport: null,
    });
    const page = await browser.newPage();
    await page.goto(`${site.url}/`);
    expect(await page.title()).toBe('Ventus test page');
    expect(await page.evaluate(() => [innerWidth, innerHeight])).toEqual([1024, 700]);
    await browser.disconnect();
    const ended = await api.waitFor(running.id, ['COMPLETED', 'EXPIRED', 'ERRORED']);
    expect(ended).toMatchObject({ status: 'COMPLETED', release_reason: 'cdp_disconnect' });
    await expect.poll(() => existsSync(podDir), { timeout: 15_000 }).toBe(false);
  });

  it("a token for session A is refused on session B's path, and after A ended", async () => {
    const a = await api.waitFor((await api.createSession({ keep_alive_seconds: 60 })).body.id, ['RUNNING']);
    const b = await api.waitFor((await api.createSession({ keep_alive_seconds: 60 })).body.id, ['RUNNING']);
    const tokenA = new URL(a.connect_url).searchParams.get('token')!;
    const wsBase = stack.url.replace('http', 'ws');
    expect(await upgradeStatus(`${wsBase}/v1/sessions/${b.id}/cdp?token=${tokenA}`)).toBe(401);
    expect(await upgradeStatus(`${wsBase}/v1/sessions/${b.id}/cdp?token=${tokenA.slice(0, -2)}xx`)).toBe(401);
    expect(await upgradeStatus(`${wsBase}/v1/sessions/${b.id}/cdp`)).toBe(401);
    expect(await upgradeStatus(a.connect_url)).toBe(101);
    await api.release(a.id);
    await api.release(b.id);
    expect(await upgradeStatus(a.connect_url)).toBe(410);
  });

  it('a release closes every open CDP socket to the session', async () => {
    const s = await api.waitFor((await api.createSession({ keep_alive_seconds: 60 })).body.id, ['RUNNING']);
    const browser = await chromium.connectOverCDP(s.connect_url);
    const disconnected = new Promise<void>((resolve) => browser.once('disconnected', () => resolve()));
    const released = await api.release(s.id);
    expect(released.body).toMatchObject({ status: 'COMPLETED', release_reason: 'client_release' });
    await disconnected;
  });

  it('keep_alive_seconds > 0: a disconnect does not release; expiry ends it EXPIRED (timeout)', async () => {
    const s = await api.waitFor(
      (await api.createSession({ keep_alive_seconds: 120, timeout_seconds: 60 })).body.id,
      ['RUNNING'],
    );
    const browser = await chromium.connectOverCDP(s.connect_url);
    await browser.close();
    await new Promise((r) => setTimeout(r, 500));
    expect((await api.getSession(s.id)).body.status).toBe('RUNNING');

    // The clock is the one allowed double: move the deadline into the past, then fire the delayed job now.
    await ctx.db.query("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [s.id]);
    const queue = new Queue('lifecycle', {
      connection: stack.services.redis,
      prefix: stack.services.queuePrefix,
    });
    const job = await queue.getJob(jobIds.expire(s.id, Date.parse(s.expires_at)));
    expect(job).toBeDefined();
    expect(await job!.isDelayed()).toBe(true);
    await job!.promote();
    const ended = await api.waitFor(s.id, ['EXPIRED', 'COMPLETED', 'ERRORED']);
    expect(ended).toMatchObject({ status: 'EXPIRED', release_reason: 'timeout' });
    await queue.close();
  });

  it('keep-alive extends a real session past its original expires_at; the original timer re-schedules', async () => {
    const s = await api.waitFor(
      (await api.createSession({ keep_alive_seconds: 60, timeout_seconds: 60 })).body.id,
      ['RUNNING'],
    );
    const original = Date.parse(s.expires_at);
    const first = await api.request<{ expires_at: string }>('POST', `/v1/sessions/${s.id}:keepalive`, {
      body: { extend_seconds: 120 },
    });
    expect(first.status).toBe(200);
    const second = await api.request<{ expires_at: string }>('POST', `/v1/sessions/${s.id}:keepalive`);
    expect(second.status).toBe(200);
    const extended = Date.parse(second.body.expires_at);
    expect(extended - original).toBe(120_000 + 600_000);

    // The clock double: fire the original expire job now, as if its time had come.
    const queue = new Queue('lifecycle', {
      connection: stack.services.redis,
      prefix: stack.services.queuePrefix,
    });
    await (await queue.getJob(jobIds.expire(s.id, original)))!.promote();
    await expect
      .poll(async () => (await queue.getJob(jobIds.expire(s.id, extended)))?.isDelayed(), { timeout: 10_000 })
      .toBe(true);
    const browser = await chromium.connectOverCDP(s.connect_url);
    expect((await api.getSession(s.id)).body.status).toBe('RUNNING');
    await browser.close();
    await api.release(s.id);
    const ended = await api.request('POST', `/v1/sessions/${s.id}:keepalive`, {
      body: { extend_seconds: 60 },
    });
    expect(ended.status).toBe(409);
    await queue.close();
  });

  it('a cookie set in session A is absent in session B', async () => {
    const a = await api.waitFor((await api.createSession()).body.id, ['RUNNING']);
    const browserA = await chromium.connectOverCDP(a.connect_url);
    const pageA = await browserA.contexts()[0]!.newPage();
    await pageA.goto(`${site.url}/set-cookie`);
    expect((await browserA.contexts()[0]!.cookies(site.url)).map((c) => c.name)).toContain('secret_sid');
    await browserA.close();
    await api.waitFor(a.id, ['COMPLETED']);

    const b = await api.waitFor((await api.createSession()).body.id, ['RUNNING']);
    const browserB = await chromium.connectOverCDP(b.connect_url);
    const pageB = await browserB.contexts()[0]!.newPage();
    await pageB.goto(`${site.url}/`);
    expect(await browserB.contexts()[0]!.cookies(site.url)).toEqual([]);
    expect(await pageB.evaluate(() => document.cookie)).toBe('');
    await browserB.close();
  });
});
