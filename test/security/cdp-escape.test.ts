/**
 * CDP methods that reach beyond one client, through the proxy to real Chromium. The defined
 * behaviour (docs/security.md): the browser is the session's whole and only tenant, so every CDP
 * method is allowed and the pod is the boundary. `Browser.close` by one client ends the session
 * for every client (terminal state with a reason, sockets closed, pod deleted, never reused);
 * `Target.createBrowserContext` / `Target.setDiscoverTargets` see only this session's browser;
 * `Browser.setDownloadBehavior` writes inside the pod's own disk, wiped at teardown.
 */
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient, type SessionBody } from '../support/api-client.ts';
import { serveLocalSite, type LocalSite } from '../support/local-page.ts';
import { eventually } from '../support/eventually.ts';
import { RawCdp } from '../runtime/raw-cdp.client.ts';
import type { Stack } from '../../stack/stack.ts';

describe('CDP methods that could escape the session', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;
  let site: LocalSite;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 2, maxTotal: 4, env: { VENTUS_HEADLESS: 'true' } });
    stack = await ctx.startStack();
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
    site = await serveLocalSite();
  }, 60_000);
  afterAll(async () => {
    await site?.close();
    await stack?.close();
    await ctx?.close();
  });

  async function running(body: Record<string, unknown> = {}): Promise<SessionBody & { podId: string }> {
    const created = await api.createSession({ keep_alive_seconds: 600, ...body });
    const s = await api.waitFor(created.body.id, ['RUNNING'], 60_000);
    const { rows } = await ctx.db.query<{ pod_id: string }>('SELECT pod_id FROM sessions WHERE id = $1', [
      s.id,
    ]);
    return { ...s, podId: rows[0]!.pod_id };
  }

  it('Browser.close by one client ends the session for all: terminal, sockets closed, pod gone, never reused', async () => {
    const s = await running();
    const first = await RawCdp.connect(s.connect_url);
    const second = await RawCdp.connect(s.connect_url);
    expect(await second.send('Browser.getVersion')).toHaveProperty('product');
    const secondClosed = once(second.ws, 'close');
    // Chromium may drop the socket before it replies: the reply is not part of the contract.
    void first.send('Browser.close').catch(() => undefined);
    await secondClosed;
    const ended = await api.waitFor(s.id, ['COMPLETED', 'EXPIRED', 'ERRORED'], 30_000);
    expect(ended.status).toBe('ERRORED');
    expect(ended.release_reason).toBe('runtime_failure');
    expect(ended.error).toMatch(/browser runtime stopped/);
    // The pod is deleted, not returned to the pool, and no later session is given it.
    // Its record goes before its directory: a delete in flight is listed no more, so wait for both.
    await eventually(
      'the pod to be deleted',
      async () =>
        (await stack.driver.listPods()).every((p) => p.id !== s.podId) &&
        !existsSync(path.join(ctx.dataDir, 'pods', s.podId)),
    );
    const next = await running();
    expect(next.podId).not.toBe(s.podId);
    // The ended session's token opens nothing any more.
    await expect(RawCdp.connect(s.connect_url)).rejects.toThrow(/410/);
    first.close();
    await api.release(next.id);
  }, 120_000);

  it('Browser.close on a keep_alive 0 session (Puppeteer browser.close()) ends it as the last disconnect', async () => {
    const s = await running({ keep_alive_seconds: 0 });
    const cdp = await RawCdp.connect(s.connect_url);
    const closed = once(cdp.ws, 'close');
    void cdp.send('Browser.close').catch(() => undefined);
    await closed;
    const ended = await api.waitFor(s.id, ['COMPLETED', 'EXPIRED', 'ERRORED'], 30_000);
    expect(ended.status).toBe('COMPLETED');
    expect(ended.release_reason).toBe('cdp_disconnect');
    await eventually('the pod to be deleted', async () =>
      (await stack.driver.listPods()).every((p) => p.id !== s.podId),
    );
  }, 120_000);

  it("new browser contexts and target discovery see only this session's browser", async () => {
    const [a, b] = await Promise.all([running(), running()]);
    const cdpB = await RawCdp.connect(b.connect_url);
    const { targetId: pageOfB } = await cdpB.send<{ targetId: string }>('Target.createTarget', {
      url: `${site.url}/?secret-of-b`,
    });
    const cdpA = await RawCdp.connect(a.connect_url);
    const { browserContextId } = await cdpA.send<{ browserContextId: string }>(
      'Target.createBrowserContext',
      {
        disposeOnDetach: true,
      },
    );
    const { targetId: pageOfA } = await cdpA.send<{ targetId: string }>('Target.createTarget', {
      url: 'about:blank',
      browserContextId,
    });
    const discovered: string[] = [];
    cdpA.ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as {
        method?: string;
        params?: { targetInfo?: { targetId: string; url: string } };
      };
      if (msg.method === 'Target.targetCreated') discovered.push(JSON.stringify(msg.params?.targetInfo));
    });
    await cdpA.send('Target.setDiscoverTargets', { discover: true });
    const { targetInfos } = await cdpA.send<{ targetInfos: { targetId: string; url: string }[] }>(
      'Target.getTargets',
    );
    const seen = [...targetInfos.map((t) => JSON.stringify(t)), ...discovered].join('\n');
    expect(seen).toContain(pageOfA);
    expect(seen).not.toContain(pageOfB);
    expect(seen).not.toContain('secret-of-b');
    // A's contexts are not B's: B's cookies and pages stay out of reach.
    const { browserContextIds } = await cdpA.send<{ browserContextIds: string[] }>(
      'Target.getBrowserContexts',
    );
    const ofB = await cdpB.send<{ browserContextIds: string[] }>('Target.getBrowserContexts');
    for (const id of ofB.browserContextIds) expect(browserContextIds).not.toContain(id);
    cdpA.close();
    cdpB.close();
    await api.release(a.id);
    await api.release(b.id);
  }, 120_000);

  it("downloads land inside the pod's own disk and are wiped with it", async () => {
    const s = await running();
    const podDir = path.join(ctx.dataDir, 'pods', s.podId);
    const cdp = await RawCdp.connect(s.connect_url);
    const downloadPath = path.join(podDir, 'user-data', 'escape-check');
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath });
    cdp.close();
    await api.release(s.id);
    await eventually('the pod dir to be wiped', async () => !existsSync(podDir));
  }, 120_000);
});
