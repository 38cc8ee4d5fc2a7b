/**
 * Live view end to end: a headful session's desktop, watched in a second (viewer) Chromium through the
 * proxy's noVNC page. What the automation shows appears in the viewer; a read-only viewer's click never
 * reaches the page even when its page is tampered with to send input, an interactive viewer's click
 * does; an expired link is refused; the viewer says so when the session ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { TestContext } from '../support/test-context.ts';
import { ApiClient, type SessionBody } from '../support/api-client.ts';
import { xvfbAvailable } from '../../core/runtime/local.driver.ts';
import type { Stack } from '../../stack/stack.ts';
import { canvasStats, serveTargetPage, VIEWER_LAUNCH, type CanvasStats } from '../support/live-view-page.ts';

const x11vncAvailable = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v x11vnc'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!xvfbAvailable() || !x11vncAvailable)('live view of a headful session', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;
  let readOnlyApi: ApiClient;
  let workspaceId: string;
  let site: Awaited<ReturnType<typeof serveTargetPage>>;
  let viewerBrowser: Browser;
  let automation: Browser;
  let target: Page;
  let session: SessionBody;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 0, maxTotal: 2, env: { VENTUS_HEADLESS: 'false' } });
    stack = await ctx.startStack();
    const key = await ctx.seedKey(['sessions:read', 'sessions:write']);
    workspaceId = key.workspaceId;
    api = new ApiClient(stack.url, key.apiKey);
    const { createApiKey } = await import('../../core/db/workspaces.repository.ts');
    readOnlyApi = new ApiClient(
      stack.url,
      (await createApiKey(ctx.db, workspaceId, ['sessions:read'])).apiKey,
    );
    site = await serveTargetPage();
    viewerBrowser = await chromium.launch(VIEWER_LAUNCH);

    const created = await api.createSession({});
    session = await api.waitFor(created.body.id, ['RUNNING'], 60_000);
    automation = await chromium.connectOverCDP(session.connect_url);
    const context = automation.contexts()[0]!;
    target = context.pages()[0] ?? (await context.newPage());
    await target.goto(site.url);
    await target.bringToFront();
  });

  afterAll(async () => {
    await viewerBrowser?.close();
    await automation?.close().catch(() => {});
    await site?.close();
    await stack?.close();
    await ctx?.close();
  });

  /** Opens `url` in a fresh viewer page and waits for the status line to say "Live". */
  async function openViewer(url: string): Promise<Page> {
    const viewer = await viewerBrowser.newPage({ viewport: { width: 1280, height: 800 } });
    await viewer.goto(url);
    await expect.poll(() => viewer.locator('#status').textContent(), { timeout: 20_000 }).toBe('Live');
    return viewer;
  }

  /** The x11vnc processes of a session's pod (the pod agent's process group). */
  async function x11vncOfPod(sessionId: string): Promise<number[]> {
    const { rows } = await ctx.db.query<{ pod_id: string }>('SELECT pod_id FROM sessions WHERE id = $1', [
      sessionId,
    ]);
    const podJson = `${ctx.dataDir}/pods/${rows[0]!.pod_id}/pod.json`;
    const { pid } = JSON.parse(await readFile(podJson, 'utf8')) as { pid: number };
    return execFileSync('ps', ['-eo', 'pid=,pgid=,comm='], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([, pgid, comm]) => comm === 'x11vnc' && Number(pgid) === pid)
      .map(([p]) => Number(p));
  }

  /** Waits until the viewer shows the target page (JPEG-ish encodings blur colours: a tolerance). */
  async function waitForDesktop(viewer: Page): Promise<CanvasStats> {
    let stats: CanvasStats | undefined;
    await expect
      .poll(async () => (stats = await canvasStats(viewer)).background, { timeout: 20_000 })
      .toBeGreaterThan(0.3);
    return stats!;
  }

  it("shows the automation's page in the viewer, read-only by default", async () => {
    expect(session.live_view_url).toMatch(new RegExp(`^${stack.url}/v/${session.id}\\?token=`));
    const viewer = await openViewer(session.live_view_url);
    const stats = await waitForDesktop(viewer);
    // The page at its own size (no viewport asked: the kiosk window's), scaled to fit the viewer window.
    expect([stats.width, stats.height]).toEqual(await target.evaluate(() => [innerWidth, innerHeight]));
    // The big text and the button are where the page has them, in their colours.
    expect(stats.text).toBeGreaterThan(0.01);
    expect(stats.button).toBeGreaterThan(0.03);
    await viewer.screenshot({ path: process.env.LIVE_VIEW_SCREENSHOT ?? `${ctx.dataDir}/live-view.png` });
    expect(await viewer.locator('#mode').textContent()).toBe('Read-only');

    // Tamper with the page so it sends input anyway: the proxy drops it.
    await viewer.evaluate(() => {
      (window as unknown as { ventusLiveView: { rfb: { viewOnly: boolean } } }).ventusLiveView.rfb.viewOnly =
        false;
    });
    await viewer.mouse.click(stats.buttonAt!.x, stats.buttonAt!.y);
    await viewer.keyboard.type('typed');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await target.evaluate(() => (window as unknown as { clicks?: number }).clicks ?? 0)).toBe(0);
    expect(await viewer.locator('#status').textContent()).toBe('Live');
    // The viewer did send them (so the page saw nothing because the proxy dropped them).
    const dropped = (await stack.services.metrics.liveViewInputDropped.get()).values[0]?.value ?? 0;
    expect(dropped).toBeGreaterThanOrEqual(3); // pointer down, pointer up, keys
    await viewer.close();
  });

  it('an interactive link (sessions:write, audited) lets the click reach the page', async () => {
    const refused = await readOnlyApi.request('POST', `/v1/sessions/${session.id}/live-view`, {
      body: { interactive: true },
    });
    expect(refused.status).toBe(403);
    const readOnlyLink = await readOnlyApi.request('POST', `/v1/sessions/${session.id}/live-view`);
    expect(readOnlyLink.status).toBe(200);
    expect(readOnlyLink.body.interactive).toBe(false);

    const res = await api.request<{ live_view_url: string; interactive: boolean; expires_at: string }>(
      'POST',
      `/v1/sessions/${session.id}/live-view`,
      { body: { interactive: true }, headers: { 'x-reason': 'user solves the CAPTCHA' } },
    );
    expect(res.status).toBe(200);
    expect(res.body.interactive).toBe(true);
    const ttl = Date.parse(res.body.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(280_000);
    expect(ttl).toBeLessThanOrEqual(300_000);
    const audit = await ctx.db.query<{ actor: string; detail: Record<string, unknown> }>(
      "SELECT actor, detail FROM audit_log WHERE action = 'session.live_view' AND target_id = $1 ORDER BY id",
      [session.id],
    );
    expect(audit.rows.map((r) => r.detail)).toEqual([
      { interactive: false },
      { interactive: true, x_reason: 'user solves the CAPTCHA' },
    ]);
    expect(audit.rows[1]!.actor).toMatch(/^[0-9A-Z]{26}$/);
    expect(JSON.stringify(audit.rows)).not.toContain('token');

    const viewer = await openViewer(res.body.live_view_url);
    const stats = await waitForDesktop(viewer);
    expect(await viewer.locator('#mode').textContent()).toMatch(/^Interactive/);
    await viewer.mouse.click(stats.buttonAt!.x, stats.buttonAt!.y);
    await expect
      .poll(() => target.evaluate(() => (window as unknown as { clicks?: number }).clicks ?? 0), {
        timeout: 10_000,
      })
      .toBe(1);
    await viewer.close();
  });

  it('refuses an expired viewer token: the page says so, the VNC socket is a 401', async () => {
    const old = await stack.services.tokens.liveViewToken(
      workspaceId,
      session.id,
      new Date(Date.now() - 6 * 60_000),
    );
    const page = await viewerBrowser.newPage();
    const response = await page.goto(`${stack.url}/v/${session.id}?token=${old}`);
    expect(response!.status()).toBe(401);
    expect(await page.locator('#status').textContent()).toBe('Link expired');
    await page.close();

    const problem = await fetch(`${stack.url}/v/${session.id}?token=${old}`, {
      headers: { accept: 'application/json' },
    });
    expect(problem.status).toBe(401);
    expect(problem.headers.get('content-type')).toBe('application/problem+json');
    expect(((await problem.json()) as { type: string }).type).toMatch(/\/link-expired$/);

    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${stack.url.replace('http', 'ws')}/v/${session.id}/websockify?token=${old}`);
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => reject(new Error('an expired token opened the VNC socket')));
      ws.once('error', reject);
    });
    expect(status).toBe(401);

    // Another session's path with this session's (valid) token: refused too.
    const fresh = await stack.services.tokens.liveViewToken(workspaceId, session.id);
    const other = await fetch(`${stack.url}/v/01JC1AMQX4N3PWV9MR2BCKDH7E?token=${fresh}`);
    expect(other.status).toBe(401);
  });

  it('after release the viewer shows the session ended, no new link is given, x11vnc is gone', async () => {
    const viewer = await openViewer(session.live_view_url);
    const vncPids = await x11vncOfPod(session.id);
    expect(vncPids).toHaveLength(1);
    expect((await api.release(session.id)).status).toBe(200);
    await expect
      .poll(() => viewer.locator('#status').textContent(), { timeout: 15_000 })
      .toBe('Session ended');
    expect(stack.liveView.openViewers(session.id)).toBe(0);

    const again = await api.request('POST', `/v1/sessions/${session.id}/live-view`);
    expect(again.status).toBe(409);
    const ended = await api.getSession(session.id);
    expect(ended.body.live_view_url).toBeNull();
    const page = await fetch(session.live_view_url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(409);
    expect(await page.text()).toContain('Session ended');
    await viewer.close();
    await expect.poll(() => vncPids.filter(alive), { timeout: 15_000 }).toEqual([]);
  });
});
