/**
 * A new page never runs before the session's overrides: its first request carries the session's
 * user agent, and its first script already sees the session's viewport and user agent, whoever
 * opens it and whoever resumes it. Real Chromium with the agent's SessionEmulator beside the clients
 * users bring (Playwright, Puppeteer, a raw CDP client).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { chromium as playwright } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CdpConnection } from '../../runtime-image/agent/cdp.client.ts';
import { launchChromium, type ChromiumHandle } from '../../runtime-image/agent/chromium.launcher.ts';
import { resolveChromium, xvfbAvailable } from '../../runtime-image/agent/chromium.resolver.ts';
import { stopChild } from '../../runtime-image/agent/child.util.ts';
import { devtoolsWsUrl } from '../../runtime-image/agent/devtools.address.ts';
import { SessionEmulator } from '../../runtime-image/agent/session.emulator.ts';
import { startXvfb, type XvfbHandle } from '../../runtime-image/agent/xvfb.launcher.ts';

const UA = 'VentusEmulatorTest/1.0';
const VIEWPORT = { width: 800, height: 600 };
const modes = xvfbAvailable() ? [true, false] : [true];
const ROUNDS = Number(process.env.SESSION_EMULATOR_ROUNDS ?? 6);

interface Seen {
  /** User-Agent header of the page's own request. */
  header?: string;
  /** What the page's first script saw (reported by a synchronous request, so before anything else). */
  first?: { w: number; h: number; ua: string; header: string };
}

interface Site {
  server: Server;
  origin: string;
  seen: Map<string, Seen>;
  /** Resolves when the page `id` asks for its document. */
  requested(id: string): Promise<void>;
  /** Resolves when the first script of page `id` has reported. */
  ran(id: string): Promise<void>;
}

function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** `/page/<id>`: a document whose first script reports what it sees, synchronously. */
async function startSite(): Promise<Site> {
  const seen = new Map<string, Seen>();
  const signals = new Map<string, ReturnType<typeof signal>>();
  const signalOf = (key: string) => signals.get(key) ?? (signals.set(key, signal()), signals.get(key)!);
  const entry = (id: string): Seen => seen.get(id) ?? (seen.set(id, {}), seen.get(id)!);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const [, kind, id = ''] = url.pathname.split('/');
    const header = req.headers['user-agent'] ?? '';
    if (kind === 'page') {
      entry(id).header ??= header;
      signalOf(`page/${id}`).resolve();
      res.setHeader('content-type', 'text/html');
      res.end(
        `<!doctype html><script>const x = new XMLHttpRequest();` +
          `x.open('GET', '/first/${id}?w=' + innerWidth + '&h=' + innerHeight + '&ua=' + encodeURIComponent(navigator.userAgent), false);` +
          `x.send();</script><title>${id}</title>`,
      );
      return;
    }
    if (kind === 'first') {
      const q = url.searchParams;
      entry(id).first ??= { w: Number(q.get('w')), h: Number(q.get('h')), ua: q.get('ua') ?? '', header };
      signalOf(`first/${id}`).resolve();
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    requested: (id) => signalOf(`page/${id}`).promise,
    ran: (id) => signalOf(`first/${id}`).promise,
  };
}

/**
 * Makes the agent slow on purpose, without a clock: while `hold(until)` is in effect, every command
 * the agent sends waits until `until` resolves, then goes in the order it was sent. Events still
 * reach the agent at once.
 */
function slowDown(cdp: CdpConnection): { hold(until: Promise<unknown>): void } {
  const send = cdp.send.bind(cdp);
  let gate: Promise<unknown> | undefined;
  cdp.send = <T>(method: string, params?: object, sessionId?: string): Promise<T> =>
    gate ? gate.then(() => send<T>(method, params, sessionId)) : send<T>(method, params, sessionId);
  return {
    hold(until) {
      const current = until.then(() => {
        if (gate === current) gate = undefined;
      });
      gate = current;
    },
  };
}

const expected = { header: UA, first: { ...{ w: VIEWPORT.width, h: VIEWPORT.height }, ua: UA, header: UA } };

describe.each(modes)('session emulator: new pages start with the overrides (headless=%s)', (headless) => {
  let dir: string;
  let xvfb: XvfbHandle | undefined;
  let browser: ChromiumHandle;
  let browserUrl: string;
  let agentCdp: CdpConnection;
  let slowAgent: ReturnType<typeof slowDown>;
  let site: Site;
  let n = 0;
  const nextId = (kind: string) => `${kind}-${n++}`;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ventus-emulator-'));
    if (!headless) xvfb = await startXvfb({ timeoutMs: 10_000 });
    browser = await launchChromium({
      executable: resolveChromium({ headless }),
      headless,
      display: xvfb?.display,
      userDataDir: path.join(dir, 'user-data'),
      tmpDir: path.join(dir, 'tmp'),
      timeoutMs: 30_000,
      sandbox: false,
    });
    browserUrl = devtoolsWsUrl(browser.devtools, browser.browserPath);
    site = await startSite();
    agentCdp = await CdpConnection.connect(browserUrl, 5_000);
    slowAgent = slowDown(agentCdp);
    const emulator = new SessionEmulator(agentCdp, pino({ level: 'silent' }), !headless);
    await emulator.configure({ viewport: VIEWPORT, userAgent: UA });
  }, 60_000);

  afterAll(async () => {
    agentCdp?.close();
    if (browser) await stopChild(browser.process, 1_000, true);
    if (xvfb) await stopChild(xvfb.process, 1_000);
    site?.server.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('Playwright: new pages, popups and new-context pages', { timeout: 120_000 }, async () => {
    const client = await playwright.connectOverCDP(browserUrl);
    const ids: string[] = [];
    try {
      const context = client.contexts()[0]!;
      const isolated = await client.newContext({ viewport: null });
      for (let round = 0; round < ROUNDS; round++) {
        const page = await context.newPage();
        const id = nextId('pw-page');
        ids.push(id);
        await page.goto(`${site.origin}/page/${id}`);

        const popupId = nextId('pw-popup');
        ids.push(popupId);
        const [popup] = await Promise.all([
          page.waitForEvent('popup'),
          page.evaluate((url) => void window.open(url), `${site.origin}/page/${popupId}`),
        ]);
        await popup.waitForLoadState();

        const other = await isolated.newPage();
        const otherId = nextId('pw-context');
        ids.push(otherId);
        await other.goto(`${site.origin}/page/${otherId}`);
        await Promise.all([page.close(), popup.close(), other.close()]);
      }
    } finally {
      await client.close();
    }
    for (const id of ids) expect({ id, ...site.seen.get(id) }).toEqual({ id, ...expected });
  });

  it('a popup a client resumes before the agent: its document waits for the overrides', async () => {
    // The client (Playwright) resumes the popup at once; the agent's commands to it wait until the
    // popup has either sent its document request (it ran without us: the old failure) or had it
    // paused by the agent (the agent holds it until the overrides are in force).
    const client = await playwright.connectOverCDP(browserUrl);
    const ids: string[] = [];
    try {
      const page = await client.contexts()[0]!.newPage();
      const openerId = nextId('opener');
      ids.push(openerId);
      await page.goto(`${site.origin}/page/${openerId}`);
      for (let round = 0; round < ROUNDS; round++) {
        const id = nextId('slow-popup');
        ids.push(id);
        const paused = new Promise<void>((resolve) => {
          const off = agentCdp.onEvent((event) => {
            if (event.method !== 'Fetch.requestPaused') return;
            off();
            resolve();
          });
        });
        slowAgent.hold(Promise.race([site.requested(id), paused]));
        const [popup] = await Promise.all([
          page.waitForEvent('popup'),
          page.evaluate((url) => void window.open(url), `${site.origin}/page/${id}`),
        ]);
        await site.ran(id);
        await popup.close();
      }
    } finally {
      await client.close();
    }
    for (const id of ids) expect({ id, ...site.seen.get(id) }).toEqual({ id, ...expected });
  });

  it('a raw client that does not attach: a page created with a URL loads, with the overrides', async () => {
    // Nobody but the agent waits on it: the agent alone must resume it (it used to wait first for
    // answers that such a target gives only once it runs, so the page never loaded).
    const client = await CdpConnection.connect(browserUrl, 5_000);
    const ids: string[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const id = nextId('raw');
        ids.push(id);
        const { targetId } = await client.send<{ targetId: string }>('Target.createTarget', {
          url: `${site.origin}/page/${id}`,
        });
        await site.ran(id);
        await client.send('Target.closeTarget', { targetId });
      }
    } finally {
      client.close();
    }
    for (const id of ids) expect({ id, ...site.seen.get(id) }).toEqual({ id, ...expected });
  });

  it('Puppeteer: new pages', { timeout: 120_000 }, async () => {
    const client = await puppeteer.connect({ browserWSEndpoint: browserUrl, defaultViewport: null });
    const ids: string[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const page = await client.newPage();
        const id = nextId('pp-page');
        ids.push(id);
        await page.goto(`${site.origin}/page/${id}`);
        await page.close();
      }
    } finally {
      await client.disconnect();
    }
    for (const id of ids) expect({ id, ...site.seen.get(id) }).toEqual({ id, ...expected });
  });
});
