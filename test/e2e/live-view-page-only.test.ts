/**
 * The live view shows the page, edge to edge, at the session's viewport (issue 20): a 1280x720 session
 * on a warm pod (started before its viewport was known) shows a one-colour page, and the viewer's
 * framebuffer is 1280x720 and that colour everywhere: no tab strip, address bar, infobar or empty
 * desktop, in its top rows or corners. Headful (x11vnc on Xvfb, clipped to the page; Chromium in
 * kiosk mode) and headless (the page's screencast). Headful, an interactive viewer's click lands on
 * the page where the viewer clicked, and a window opened later (a new browser context) is pages only
 * too.
 *
 * `LIVE_VIEW_DOCS_SCREENSHOT=1` also writes the headful viewer to docs/images/live-view-1280x720.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TestContext } from '../support/test-context.ts';
import { ApiClient, type SessionBody } from '../support/api-client.ts';
import { VIEWER_LAUNCH } from '../support/live-view-page.ts';
import { poolSnapshot } from '../support/pool-snapshot.ts';
import { eventually } from '../support/eventually.ts';
import { xvfbAvailable } from '../../core/runtime/local.driver.ts';
import type { Stack } from '../../stack/stack.ts';

const POOL = 'us-east1-chromium';
const VIEWPORT = { width: 1280, height: 720 };
/** A colour no browser UI or empty desktop has. */
const COLOUR = [18, 212, 160] as const;
const page = (colour: readonly number[]) =>
  `data:text/html,<!doctype html><title>one colour</title><body style="margin:0;background:rgb(${colour.join(',')})"></body>`;
const SCREENSHOT = fileURLToPath(new URL('../../docs/images/live-view-1280x720.png', import.meta.url));

interface Framebuffer {
  width: number;
  height: number;
  /** Pixels not of the colour (JPEG and Tight blur a little: a tolerance per channel). */
  off: number;
  /** ... of them in the top 100 rows, where a tab strip and an address bar would be. */
  offTop: number;
  /** Whether each corner's 16x16 square is all the colour (top-left, top-right, bottom-left, bottom-right). */
  corners: boolean[];
}

/** Reads every pixel of the viewer's noVNC canvas: what the viewer's framebuffer holds. */
function framebuffer(viewer: Page, colour: readonly number[]): Promise<Framebuffer> {
  return viewer.evaluate((c) => {
    const canvas = document.querySelector('#screen canvas') as HTMLCanvasElement;
    const { width, height } = canvas;
    const data = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
    const isColour = (x: number, y: number) => {
      const i = (y * width + x) * 4;
      return [0, 1, 2].every((k) => Math.abs(data[i + k]! - c[k]!) < 24);
    };
    let off = 0;
    let offTop = 0;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        if (!isColour(x, y)) {
          off++;
          if (y < 100) offTop++;
        }
    const square = (x0: number, y0: number) => {
      for (let y = y0; y < y0 + 16; y++) for (let x = x0; x < x0 + 16; x++) if (!isColour(x, y)) return false;
      return true;
    };
    const corners = [
      square(0, 0),
      square(width - 16, 0),
      square(0, height - 16),
      square(width - 16, height - 16),
    ];
    return { width, height, off, offTop, corners };
  }, colour);
}

function describePageOnly(headless: boolean): void {
  const mode = headless ? 'headless (screencast)' : 'headful (x11vnc on Xvfb)';
  describe.skipIf(!headless && !xvfbAvailable())(`live view of a 1280x720 session, ${mode}`, () => {
    let ctx: TestContext;
    let stack: Stack;
    let api: ApiClient;
    let viewerBrowser: Browser;
    let automation: Browser;
    let target: Page;
    let session: SessionBody;

    beforeAll(async () => {
      ctx = await TestContext.create({
        minReady: 1,
        maxTotal: 2,
        env: { VENTUS_HEADLESS: String(headless) },
      });
      stack = await ctx.startStack();
      api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
      viewerBrowser = await chromium.launch(VIEWER_LAUNCH);
      // A warm pod: its Xvfb and Chromium started before any viewport was known.
      const { redis, redisKeys: keys } = stack.services;
      await eventually('a warm pod', async () => (await poolSnapshot(redis, keys, POOL)).warm >= 1, {
        timeoutMs: 60_000,
      });
      const warm = await redis.lrange(keys.poolWarm(POOL), 0, -1);
      const created = await api.createSession({ viewport: VIEWPORT });
      session = await api.waitFor(created.body.id, ['RUNNING'], 60_000);
      const { rows } = await ctx.db.query<{ pod_id: string }>('SELECT pod_id FROM sessions WHERE id = $1', [
        session.id,
      ]);
      expect(warm).toContain(rows[0]!.pod_id);
      automation = await chromium.connectOverCDP(session.connect_url);
      const context = automation.contexts()[0]!;
      target = context.pages()[0] ?? (await context.newPage());
      await target.goto(page(COLOUR));
      await target.bringToFront();
    });

    afterAll(async () => {
      await viewerBrowser?.close();
      await automation?.close().catch(() => {});
      await stack?.close();
      await ctx?.close();
    });

    /** Opens a live view link as a viewer does; the viewer's window fits 1280x720 at 1:1 (36 px status bar). */
    async function openViewer(url: string): Promise<Page> {
      const viewer = await viewerBrowser.newPage({ viewport: { width: 1280, height: 756 } });
      await viewer.goto(url);
      await expect.poll(() => viewer.locator('#status').textContent(), { timeout: 20_000 }).toBe('Live');
      return viewer;
    }

    /** Waits until the viewer's framebuffer is the colour (a first frame may be the page before). */
    async function settledFramebuffer(viewer: Page, colour: readonly number[]): Promise<Framebuffer> {
      let fb: Framebuffer | undefined;
      await expect
        .poll(async () => (fb = await framebuffer(viewer, colour)).off, { timeout: 20_000 })
        .toBe(0);
      return fb!;
    }

    it('the framebuffer is the viewport, all of it the page: no browser UI in the top rows or corners', async () => {
      expect(await target.evaluate(() => [innerWidth, innerHeight])).toEqual([1280, 720]);
      const viewer = await openViewer(session.live_view_url);
      const fb = await settledFramebuffer(viewer, COLOUR);
      expect([fb.width, fb.height]).toEqual([VIEWPORT.width, VIEWPORT.height]);
      expect(fb.offTop).toBe(0);
      expect(fb.corners).toEqual([true, true, true, true]);
      if (!headless && process.env.LIVE_VIEW_DOCS_SCREENSHOT) await viewer.screenshot({ path: SCREENSHOT });
      await viewer.close();
    });

    it.skipIf(headless)('an interactive click lands on the page where the viewer clicked', async () => {
      await target.evaluate(() => {
        // On the document: the body of an empty page has no height, the click lands on <html>.
        document.addEventListener('click', (e) => {
          (window as unknown as { lastClick: number[] }).lastClick = [e.clientX, e.clientY];
        });
      });
      const res = await api.request<{ live_view_url: string }>(
        'POST',
        `/v1/sessions/${session.id}/live-view`,
        {
          body: { interactive: true },
          headers: { 'x-reason': 'live view page-only test' },
        },
      );
      expect(res.status).toBe(200);
      const viewer = await openViewer(res.body.live_view_url);
      await settledFramebuffer(viewer, COLOUR);
      const box = (await viewer.locator('#screen canvas').boundingBox())!;
      // Page point (1000, 600): near the bottom-right, where a desktop offset or scale would show.
      await viewer.mouse.click(box.x + (1000 * box.width) / 1280, box.y + (600 * box.height) / 720);
      const click = await eventually('the click to reach the page', () =>
        target.evaluate(() => (window as unknown as { lastClick?: number[] }).lastClick),
      );
      expect(Math.abs(click[0]! - 1000)).toBeLessThanOrEqual(2);
      expect(Math.abs(click[1]! - 600)).toBeLessThanOrEqual(2);
      await viewer.close();
    });

    it.skipIf(headless)('a window opened later (a new browser context) shows its page only too', async () => {
      const other = [230, 20, 120] as const;
      // viewport null: with one, Playwright sizes the new window itself (to the viewport plus the
      // browser's UI), which takes it out of fullscreen; see runtime-image/agent/browser.window.ts.
      const context = await automation.newContext({ viewport: null });
      const second = await context.newPage();
      await second.goto(page(other));
      await second.bringToFront();
      const viewer = await openViewer(session.live_view_url);
      const fb = await settledFramebuffer(viewer, other);
      expect([fb.width, fb.height]).toEqual([VIEWPORT.width, VIEWPORT.height]);
      await viewer.close();
      await context.close();
    });
  });
}

describePageOnly(false);
describePageOnly(true);
