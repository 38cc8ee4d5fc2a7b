/**
 * Restores and captures a browser's storage_state (Playwright's shape) without touching the user's
 * pages. Cookies go through `Storage.setCookies` / `Storage.getCookies` at browser level. localStorage
 * has no browser-level CDP: `DOMStorage.setDOMStorageItem` only reaches origins some frame of the
 * attached page has loaded, so a hidden helper tab (background, default context, so the same storage
 * partition as the user's pages) is navigated to each origin with every request intercepted and
 * answered by an empty page (nothing reaches the network), and reads or writes `localStorage` there.
 *
 * Callers pass a browser-level connection of their own: the session emulator's connection
 * auto-attaches to every target and would detach a second session we opened on it.
 */
import type { PodStorageState, RestoredCounts } from './protocol.ts';
import type { CdpConnection } from './cdp.client.ts';

type Cookie = NonNullable<PodStorageState['cookies']>[number];
type OriginState = NonNullable<PodStorageState['origins']>[number];

interface CdpCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  expires: number;
  httpOnly: boolean;
  secure: boolean;
  session: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  partitionKey?: unknown;
}

const EMPTY_PAGE = Buffer.from('<!doctype html><link rel="icon" href="data:,"><title></title>').toString(
  'base64',
);

/** Playwright's cookie fields → CDP's CookieParam (expires -1 or absent: a session cookie). */
export function toCookieParam(c: Cookie): Record<string, unknown> {
  const param: Record<string, unknown> = { name: c.name, value: c.value };
  if (c.url !== undefined) param.url = c.url;
  if (c.domain !== undefined) param.domain = c.domain;
  // Playwright's default; Chromium would otherwise derive a path from no URL at all.
  const path = c.path ?? (c.url === undefined ? '/' : undefined);
  if (path !== undefined) param.path = path;
  if (c.expires !== undefined && c.expires >= 0) param.expires = c.expires;
  if (c.httpOnly !== undefined) param.httpOnly = c.httpOnly;
  if (c.secure !== undefined) param.secure = c.secure;
  if (c.sameSite !== undefined) param.sameSite = c.sameSite;
  return param;
}

function fromCdpCookie(c: CdpCookie): Cookie {
  return {
    name: c.name,
    value: c.value,
    domain: c.domain,
    path: c.path,
    expires: c.session ? -1 : c.expires,
    httpOnly: c.httpOnly,
    secure: c.secure,
    ...(c.sameSite && { sameSite: c.sameSite }),
  };
}

/** `scheme://host[:port]` of an http(s) origin or URL; undefined for anything else (about:, data:, …). */
export function httpOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** Sets cookies; returns how many Chromium accepted (an invalid one does not sink the others). */
async function setCookies(cdp: CdpConnection, cookies: Cookie[]): Promise<number> {
  if (cookies.length === 0) return 0;
  const params = cookies.map(toCookieParam);
  try {
    await cdp.send('Storage.setCookies', { cookies: params });
    return params.length;
  } catch {
    // The batch fails as a whole on the first invalid cookie: retry one by one to keep the rest.
    const results = await Promise.allSettled(
      params.map((cookie) => cdp.send('Storage.setCookies', { cookies: [cookie] })),
    );
    return results.filter((r) => r.status === 'fulfilled').length;
  }
}

/** A background tab whose every request is answered locally with an empty page. */
class HelperTab {
  private constructor(
    private readonly cdp: CdpConnection,
    private readonly targetId: string,
    private readonly sessionId: string,
    private readonly unsubscribe: () => void,
  ) {}

  static async open(cdp: CdpConnection): Promise<HelperTab> {
    const { targetId } = await cdp.send<{ targetId: string }>('Target.createTarget', {
      url: 'about:blank',
      background: true,
    });
    try {
      const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', {
        targetId,
        flatten: true,
      });
      const unsubscribe = cdp.onEvent((event) => {
        if (event.sessionId !== sessionId || event.method !== 'Fetch.requestPaused') return;
        void cdp
          .send(
            'Fetch.fulfillRequest',
            {
              requestId: event.params.requestId,
              responseCode: 200,
              responseHeaders: [{ name: 'Content-Type', value: 'text/html' }],
              body: EMPTY_PAGE,
            },
            sessionId,
          )
          .catch(() => undefined);
      });
      await cdp.send('Fetch.enable', { patterns: [{ urlPattern: '*' }] }, sessionId);
      return new HelperTab(cdp, targetId, sessionId, unsubscribe);
    } catch (err) {
      await cdp.send('Target.closeTarget', { targetId }).catch(() => undefined);
      throw err;
    }
  }

  /** Loads `origin` (locally answered) and runs `body` there with `localStorage` of that origin. */
  async inOrigin<T>(origin: string, body: string): Promise<T> {
    const nav = await this.cdp.send<{ errorText?: string }>(
      'Page.navigate',
      { url: `${origin}/` },
      this.sessionId,
    );
    if (nav.errorText) throw new Error(`helper tab: loading ${origin} failed: ${nav.errorText}`);
    // The navigation commits before the new document's context may answer: retry until it is there.
    const expression = `(() => { if (location.origin !== ${JSON.stringify(origin)}) throw new Error('not yet'); ${body} })()`;
    for (let attempt = 0; ; attempt++) {
      const res = await this.cdp.send<{ result: { value?: unknown }; exceptionDetails?: { text?: string } }>(
        'Runtime.evaluate',
        { expression, returnByValue: true },
        this.sessionId,
      );
      if (!res.exceptionDetails) return res.result.value as T;
      if (attempt >= 100) throw new Error(`helper tab: ${origin} did not load`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.cdp.send('Target.closeTarget', { targetId: this.targetId }).catch(() => undefined);
  }
}

async function withHelper<T>(cdp: CdpConnection, fn: (tab: HelperTab) => Promise<T>): Promise<T> {
  const tab = await HelperTab.open(cdp);
  try {
    return await fn(tab);
  } finally {
    await tab.close();
  }
}

/** Applies cookies and per-origin localStorage; returns counts (never values). */
export async function restoreStorageState(
  cdp: CdpConnection,
  state: PodStorageState,
): Promise<RestoredCounts> {
  const cookies = await setCookies(cdp, state.cookies ?? []);
  const origins: RestoredCounts['origins'] = [];
  const pending = (state.origins ?? [])
    .map((o) => ({ origin: httpOrigin(o.origin), items: o.localStorage }))
    .filter((o): o is { origin: string; items: OriginState['localStorage'] } => o.origin !== undefined);
  if (pending.length > 0) {
    const restore = withHelper(cdp, async (tab) => {
      for (const { origin, items } of pending) {
        const entries = JSON.stringify(items.map((i) => [i.name, i.value]));
        const set = await tab.inOrigin<number>(
          origin,
          `const entries = ${entries}; for (const [k, v] of entries) localStorage.setItem(k, v); return entries.length;`,
        );
        origins.push({ origin, localStorageItems: set });
      }
    });
    await within(45_000, 'restoring localStorage in the helper tab', restore);
  }
  return { cookies, origins };
}

/** localStorage of the page target's own origin, read in place (attaching does not disturb the page). */
async function readInPage(cdp: CdpConnection, targetId: string, origin: string): Promise<[string, string][]> {
  const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', {
    targetId,
    flatten: true,
  });
  try {
    await cdp.send('DOMStorage.enable', {}, sessionId);
    const { entries } = await cdp.send<{ entries: [string, string][] }>(
      'DOMStorage.getDOMStorageItems',
      { storageId: { securityOrigin: origin, isLocalStorage: true } },
      sessionId,
    );
    return entries;
  } finally {
    await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
  }
}

/** Rejects after `ms`: a target another client holds paused must not hang the caller forever. */
function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The browser's cookies and localStorage: of every origin an open page shows (read in that page,
 * no new target), plus `knownOrigins` no page shows (read in the helper tab; a CDP client that
 * auto-attaches sees it come and go). Origins without items are left out (as Playwright does).
 */
export async function captureStorageState(
  cdp: CdpConnection,
  knownOrigins: Iterable<string>,
): Promise<Required<PodStorageState>> {
  const { cookies } = await cdp.send<{ cookies: CdpCookie[] }>('Storage.getCookies', {});
  const { targetInfos } = await cdp.send<{ targetInfos: { targetId: string; type: string; url: string }[] }>(
    'Target.getTargets',
  );
  const found = new Map<string, [string, string][]>();
  for (const t of targetInfos) {
    const origin = t.type === 'page' ? httpOrigin(t.url) : undefined;
    if (!origin || found.has(origin)) continue;
    const entries = await within(10_000, `reading ${origin}`, readInPage(cdp, t.targetId, origin)).catch(
      () => undefined, // closed meanwhile, or busy: the helper tab reads it below
    );
    if (entries) found.set(origin, entries);
  }
  const rest = [...new Set(knownOrigins)].filter((o) => !found.has(o));
  if (rest.length > 0) {
    await within(
      30_000,
      'reading localStorage in the helper tab',
      withHelper(cdp, async (tab) => {
        for (const origin of rest) {
          found.set(
            origin,
            await tab.inOrigin<[string, string][]>(origin, 'return Object.entries(localStorage);'),
          );
        }
      }),
    );
  }
  return {
    // Partitioned (CHIPS) cookies would come back unpartitioned: leave them out.
    cookies: cookies.filter((c) => c.partitionKey === undefined).map(fromCdpCookie),
    origins: [...found]
      .filter(([, entries]) => entries.length > 0)
      .map(([origin, entries]) => ({
        origin,
        localStorage: entries.map(([name, value]) => ({ name, value })),
      })),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (v: unknown, type: 'string' | 'number' | 'boolean') => v === undefined || typeof v === type;

/** Validates POST /session's `storageState`; returns it or a message for a 400. */
export function parseStorageState(raw: unknown): PodStorageState | string {
  if (!isObject(raw)) return 'storageState must be an object {cookies?, origins?}';
  const { cookies = [], origins = [] } = raw;
  if (!Array.isArray(cookies) || !Array.isArray(origins))
    return 'storageState cookies and origins must be arrays';
  for (const c of cookies as unknown[]) {
    const ok =
      isObject(c) &&
      typeof c.name === 'string' &&
      typeof c.value === 'string' &&
      optional(c.domain, 'string') &&
      optional(c.path, 'string') &&
      optional(c.url, 'string') &&
      optional(c.expires, 'number') &&
      optional(c.httpOnly, 'boolean') &&
      optional(c.secure, 'boolean') &&
      (c.sameSite === undefined || ['Strict', 'Lax', 'None'].includes(c.sameSite as string));
    if (!ok) return 'storageState.cookies[]: {name, value} strings with optional Playwright cookie fields';
  }
  for (const o of origins as unknown[]) {
    const ok =
      isObject(o) &&
      typeof o.origin === 'string' &&
      Array.isArray(o.localStorage) &&
      (o.localStorage as unknown[]).every(
        (i) => isObject(i) && typeof i.name === 'string' && typeof i.value === 'string',
      );
    if (!ok) return 'storageState.origins[]: {origin, localStorage: [{name, value}]}';
  }
  return { cookies, origins };
}
