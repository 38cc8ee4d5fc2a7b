/**
 * POST /session through the local driver, seen by the clients users actually bring: Playwright
 * (connectOverCDP) and Puppeteer (connect). Checks the viewport and user agent in JS and on the
 * wire (a local HTTP server records the User-Agent header), and that pods share no cookies.
 */
import { openPodBridge, type PodBridge } from '../support/pod-bridge.ts';
import { listenOnPagePort } from '../support/page-ports.ts';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import puppeteer, { type Page, type Target } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../core/runtime/driver.ts';
import { xvfbAvailable } from '../../core/runtime/local.driver.ts';
import { CdpConnection } from '../../runtime-image/agent/cdp.client.ts';
import { agentRequest } from '../../core/runtime/agent.client.ts';
import { testAgentAccess } from '../support/agent-access.ts';
import { eventually } from '../support/eventually.ts';
import { podId } from './driver.conformance.ts';
import { localHarness, type LocalHarness } from './local.harness.ts';

const UA = 'VentusTest/1.0';
const modes = xvfbAvailable() ? [true, false] : [true];

/** Records every request; `/set-cookie` sets a session cookie. Bound to 127.0.0.1 only. */
async function startSite(): Promise<{
  server: Server;
  origin: string;
  seen: { path: string; headers: IncomingHttpHeaders }[];
}> {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    if (req.url === '/set-cookie') res.setHeader('set-cookie', 'sid=secret-of-pod-a; Path=/; HttpOnly');
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>site</title><p>hello</p>');
  });
  await listenOnPagePort(server);
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const measure = () => ({ w: innerWidth, h: innerHeight, ua: navigator.userAgent });

describe.each(modes)('session settings (headless=%s)', { timeout: 60_000 }, (headless) => {
  let h: LocalHarness;
  let site: Awaited<ReturnType<typeof startSite>>;
  let podA: Pod;
  let podB: Pod;
  let a: PodBridge;
  let b: PodBridge;
  const userAgentOf = (path: string) => site.seen.find((r) => r.path === path)?.headers['user-agent'];

  beforeAll(async () => {
    h = await localHarness(headless);
    site = await startSite();
    [podA, podB] = await Promise.all([
      h.driver.createPod({ id: podId('sess-a'), pool: 'p', headless }),
      h.driver.createPod({ id: podId('sess-b'), pool: 'p', headless }),
    ]);
    await h.driver.configureSession(podA, { viewport: { width: 800, height: 600 }, userAgent: UA });
    // The claim (a first POST /session) comes before any client, as in the service.
    await h.driver.configureSession(podB, {});
    [a, b] = await Promise.all([openPodBridge(podA), openPodBridge(podB)]);
  }, 90_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await h?.cleanup();
    site?.server.close();
  }, 60_000);

  it('Playwright connectOverCDP: initial, new, popup and new-context pages get viewport and UA', async () => {
    const browser = await chromium.connectOverCDP(a.cdpUrl);
    try {
      const context = browser.contexts()[0]!;
      const initial = context.pages()[0]!;
      expect(await initial.evaluate(measure)).toEqual({ w: 800, h: 600, ua: UA });

      const page = await context.newPage();
      await page.goto(`${site.origin}/pw-page`);
      expect(await page.evaluate(measure)).toEqual({ w: 800, h: 600, ua: UA });
      await page.evaluate((url) => fetch(url).then((r) => r.text()), `${site.origin}/pw-fetch`);
      expect(userAgentOf('/pw-page')).toBe(UA);
      expect(userAgentOf('/pw-fetch')).toBe(UA);

      const [popup] = await Promise.all([
        page.waitForEvent('popup'),
        page.evaluate((url) => void window.open(url), `${site.origin}/pw-popup`),
      ]);
      await popup.waitForLoadState();
      expect(await popup.evaluate(measure)).toEqual({ w: 800, h: 600, ua: UA });
      expect(userAgentOf('/pw-popup')).toBe(UA);

      // A fresh browser context (its own cookie jar) is covered too: the agent attaches browser-wide.
      // viewport: null, because a new Playwright context otherwise emulates its own 1280x720, and a
      // client's explicit emulation rightly takes precedence over the session default.
      const isolated = await browser.newContext({ viewport: null });
      const other = await isolated.newPage();
      await other.goto(`${site.origin}/pw-context`);
      expect(await other.evaluate(measure)).toEqual({ w: 800, h: 600, ua: UA });
      expect(userAgentOf('/pw-context')).toBe(UA);
    } finally {
      await browser.close(); // over CDP this disconnects; the pod's browser keeps running
    }
  });

  it('Puppeteer connect: new pages get viewport and UA', async () => {
    const browser = await puppeteer.connect({ browserWSEndpoint: a.cdpUrl });
    try {
      const page = await browser.newPage();
      await page.goto(`${site.origin}/pp-page`);
      expect(await page.evaluate(measure)).toEqual({ w: 800, h: 600, ua: UA });
      expect(userAgentOf('/pp-page')).toBe(UA);
    } finally {
      await browser.disconnect();
    }
  });

  it('a second POST /session re-applies to open pages (Puppeteer without its own viewport)', async () => {
    // Puppeteer's default viewport is 800x600 too; with defaultViewport null only ours applies.
    const browser = await puppeteer.connect({ browserWSEndpoint: b.cdpUrl, defaultViewport: null });
    try {
      const page = await browser.newPage();
      await h.driver.configureSession(podB, { viewport: { width: 1024, height: 700 }, userAgent: `${UA} b` });
      expect(await page.evaluate(measure)).toEqual({ w: 1024, h: 700, ua: `${UA} b` });
      await h.driver.configureSession(podB, { viewport: { width: 640, height: 480 } }); // UA kept
      await page.goto(`${site.origin}/pp-b`);
      expect(await page.evaluate(measure)).toEqual({ w: 640, h: 480, ua: `${UA} b` });
      expect(userAgentOf('/pp-b')).toBe(`${UA} b`);
      if (headless) {
        // Claimed with nothing to emulate, the pod let documents go unheld; now it has a user agent,
        // popups' first requests wait for it again (the client resumes a popup before the agent can, so
        // unheld, some of six would leave with Chromium's own user agent).
        const paths = Array.from({ length: 6 }, (_, i) => `/pp-b-popup-${i}`);
        const popups: Promise<Page | null>[] = [];
        const onTarget = (t: Target) => void popups.push(t.page());
        browser.on('targetcreated', onTarget);
        // Headless: a headful browser would allow one popup per user gesture (an evaluate is one).
        await page.evaluate(
          (urls) => urls.forEach((url) => void window.open(url)),
          paths.map((p) => `${site.origin}${p}`),
        );
        await eventually('the popups to load', async () => paths.every((p) => userAgentOf(p) !== undefined));
        browser.off('targetcreated', onTarget);
        expect(paths.map(userAgentOf)).toEqual(paths.map(() => `${UA} b`));
        for (const popup of await Promise.all(popups)) await popup?.close();
      }
    } finally {
      await browser.disconnect();
    }
  });

  it('a warm pod has its session emulator attached before the claim, which then only sets the overrides', async () => {
    const warm = await h.driver.createPod({ id: podId('sess-warm'), pool: 'p', headless });
    const bridge = await openPodBridge(warm);
    try {
      // A client of the warm pod (the claim cuts it) sees the agent's session on the initial page.
      const probe = await CdpConnection.connect(bridge.cdpUrl, 10_000);
      try {
        await eventually('the agent attached to the warm pod page', async () => {
          const { targetInfos } = await probe.send<{ targetInfos: { type: string; attached: boolean }[] }>(
            'Target.getTargets',
          );
          return targetInfos.some((t) => t.type === 'page' && t.attached);
        });
      } finally {
        probe.close();
      }
      await h.driver.configureSession(warm, {
        viewport: { width: 700, height: 500 },
        userAgent: `${UA} warm`,
      });
      const browser = await chromium.connectOverCDP(bridge.cdpUrl);
      try {
        const initial = browser.contexts()[0]!.pages()[0]!;
        expect(await initial.evaluate(measure)).toEqual({ w: 700, h: 500, ua: `${UA} warm` });
      } finally {
        await browser.close();
      }
    } finally {
      await bridge.close();
      await h.driver.deletePod(warm.id);
    }
  });

  it('a warm pod warms its network path before the claim, and leaves its page as it was', async () => {
    const warm = await h.driver.createPod({ id: podId('sess-net'), pool: 'p', headless });
    const bridge = await openPodBridge(warm);
    try {
      // network.warmup.ts: the cookie store opened and one request through the egress path, no client.
      await eventually('the agent warmed the network path while warm', async () => {
        const res = await agentRequest(testAgentAccess, warm, '/healthz', { timeoutMs: 5_000 });
        return (await res.json<{ networkWarm?: boolean }>()).networkWarm === true;
      });
      await h.driver.configureSession(warm, {});
      const browser = await chromium.connectOverCDP(bridge.cdpUrl);
      try {
        const initial = browser.contexts()[0]!.pages()[0]!;
        // Nothing of the warm-up for the session to see: no navigation, no timing entry, no cookie.
        expect(
          await initial.evaluate(() => ({
            url: location.href,
            history: history.length,
            resources: performance.getEntriesByType('resource').length,
          })),
        ).toEqual({ url: 'about:blank', history: 1, resources: 0 });
        expect(await browser.contexts()[0]!.cookies()).toEqual([]);
      } finally {
        await browser.close();
      }
    } finally {
      await bridge.close();
      await h.driver.deletePod(warm.id);
    }
  });

  it('a cookie set in one pod is absent in another', async () => {
    const browserA = await chromium.connectOverCDP(a.cdpUrl);
    const browserB = await chromium.connectOverCDP(b.cdpUrl);
    try {
      const pageA = await browserA.contexts()[0]!.newPage();
      await pageA.goto(`${site.origin}/set-cookie`);
      await pageA.goto(`${site.origin}/a-again`);
      expect(site.seen.find((r) => r.path === '/a-again')?.headers.cookie).toBe('sid=secret-of-pod-a');

      const pageB = await browserB.contexts()[0]!.newPage();
      await pageB.goto(`${site.origin}/b-visit`);
      expect(site.seen.find((r) => r.path === '/b-visit')?.headers.cookie).toBeUndefined();
      expect(await browserB.contexts()[0]!.cookies(site.origin)).toEqual([]);
    } finally {
      await Promise.all([browserA.close(), browserB.close()]);
    }
  });
});
