/**
 * The setting of every pod-boundary attack: the whole service on the local driver with real headless
 * Chromium and warm pods, three tenants (A the attacker with a key, B whose automation visits a
 * hostile page, C the victim), each session holding an httpOnly cookie with a secret of its own, and
 * the test's instruments (the attacker's proxy, a loopback canary).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { TestContext } from '../../support/test-context.ts';
import { ApiClient } from '../../support/api-client.ts';
import { eventually } from '../../support/eventually.ts';
import type { Stack } from '../../../stack/stack.ts';
import { AttackerCdp, type AttackerPage } from './attacker-cdp.client.ts';
import { HOSTILE_HTML, hostileSite } from './hostile-page.ts';
import { startAttackerProxy, startCanary, type Instrument } from './instruments.ts';
import { scanListeningPorts, type ListeningPort } from './listening-ports.ts';

export type TenantName = 'A' | 'B' | 'C';

/** The origin of tenant A's own hostile pages (served by interception over A's CDP). */
export const ATTACKER_A_ORIGIN = 'https://attacker-a.test';

/** Tenant A's pages: through the pod's forwarding proxy, and in a `direct://` context. */
export interface AttackerPages {
  cdp: AttackerCdp;
  proxied: AttackerPage;
  direct: AttackerPage;
  directContextId: string;
}

export interface BoundarySession {
  id: string;
  tenant: TenantName;
  connectUrl: string;
  podId: string;
  /** The value of this session's httpOnly cookie: nobody else may ever read it. */
  secret: string;
  /** The cookie's domain (served by interception). */
  domain: string;
}

/**
 * Pages of a victim's site (https://<domain>/, by interception): red while it works, green after the
 * attack. Static, so a recording holds a few frames and encodes in seconds.
 */
const colourPage = (colour: string) =>
  `<!doctype html><title>inbox</title><body style="margin:0;background:${colour}"><h1>inbox</h1></body>`;
export const RED_PAGE = colourPage('#e00000');
export const GREEN_PAGE = colourPage('#00c000');

/** A session's httpOnly cookie holding its secret (Playwright's and CDP's cookie shape alike). */
export function secretCookie(session: Pick<BoundarySession, 'secret' | 'domain'>) {
  return {
    name: 'sid',
    value: session.secret,
    domain: session.domain,
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'Lax' as const,
  };
}

/** The ports to spray now, and who owns each (for the table). */
export interface PortTargets {
  targets: ListeningPort[];
  ports: number[];
  describePort: (port: number) => string;
}

export class BoundaryStack {
  readonly sessions: BoundarySession[] = [];
  private readonly browsers: Browser[] = [];
  private readonly cdps: AttackerCdp[] = [];

  private constructor(
    readonly ctx: TestContext,
    readonly stack: Stack,
    readonly tenants: Record<TenantName, ApiClient>,
    readonly attackerProxy: Instrument,
    readonly canary: Instrument,
  ) {}

  /** `chromiumPath`: another browser than the driver's default (Debian's headless shell). */
  static async start(opts: {
    minReady: number;
    maxTotal: number;
    chromiumPath?: string;
  }): Promise<BoundaryStack> {
    const ctx = await TestContext.create({
      minReady: opts.minReady,
      maxTotal: opts.maxTotal,
      env: { VENTUS_HEADLESS: 'true', ...(opts.chromiumPath && { VENTUS_CHROMIUM_PATH: opts.chromiumPath }) },
    });
    const stack = await ctx.startStack();
    const key = async () => new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
    const tenants = { A: await key(), B: await key(), C: await key() };
    return new BoundaryStack(ctx, stack, tenants, await startAttackerProxy(), await startCanary());
  }

  /** A RUNNING session of `tenant` (its pod id read from the database). */
  async session(tenant: TenantName, body: Record<string, unknown> = {}): Promise<BoundarySession> {
    const api = this.tenants[tenant];
    const created = await api.createSession({ keep_alive_seconds: 600, ...body });
    if (created.status !== 202) throw new Error(`create session: ${created.status}`);
    const s = await api.waitFor(created.body.id, ['RUNNING'], 90_000);
    const { rows } = await this.ctx.db.query<{ pod_id: string }>(
      'SELECT pod_id FROM sessions WHERE id = $1',
      [s.id],
    );
    const secret = `secret-${tenant}-${randomBytes(12).toString('hex')}`;
    const session = {
      id: s.id,
      tenant,
      connectUrl: s.connect_url,
      podId: rows[0]!.pod_id,
      secret,
      domain: `${tenant.toLowerCase()}-${randomBytes(3).toString('hex')}.test`,
    };
    this.sessions.push(session);
    return session;
  }

  /** Warm pod ids of the default pool now. */
  warmPods(): Promise<string[]> {
    return this.stack.services.warmPods.ids('us-east1-chromium');
  }

  async waitForWarm(n: number): Promise<string[]> {
    return eventually(
      `${n} warm pods`,
      async () => {
        const ids = await this.warmPods();
        return ids.length >= n && ids;
      },
      { timeoutMs: 90_000, everyMs: 200 },
    );
  }

  /** The session's automation (Playwright over connect_url), with its secret httpOnly cookie set. */
  async automation(session: BoundarySession): Promise<{ browser: Browser; context: BrowserContext }> {
    const browser = await chromium.connectOverCDP(session.connectUrl);
    this.browsers.push(browser);
    const context = browser.contexts()[0]!;
    await context.addCookies([secretCookie(session)]);
    return { browser, context };
  }

  /**
   * The victim's automation: its cookie, and its page open on its own site (served by interception),
   * red and moving, so a recording has frames.
   */
  async victimPage(session: BoundarySession): Promise<Page> {
    const { context } = await this.automation(session);
    await context.route(`https://${session.domain}/**`, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: new URL(route.request().url()).pathname === '/green' ? GREEN_PAGE : RED_PAGE,
      }),
    );
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`https://${session.domain}/inbox?${session.secret}`);
    return page;
  }

  /** B's automation visits the hostile page (https://attacker.test, served by interception). */
  async hostilePage(session: BoundarySession): Promise<Page> {
    const { context } = await this.automation(session);
    await context.route('https://attacker.test/**', (route) =>
      route.fulfill({ contentType: 'text/html', body: HOSTILE_HTML }),
    );
    const page = await context.newPage();
    await page.goto('https://attacker.test/');
    return page;
  }

  /** Tenant A's own CDP: a raw WebSocket to its connect_url, with its secret cookie set. */
  async attackerCdp(session: BoundarySession): Promise<AttackerCdp> {
    const cdp = await AttackerCdp.connect(session.connectUrl);
    this.cdps.push(cdp);
    await cdp.send('Storage.setCookies', { cookies: [secretCookie(session)] });
    return cdp;
  }

  /** A's hostile pages over its CDP (see openAttackerPages). */
  attackerPages(cdp: AttackerCdp): Promise<AttackerPages> {
    return openAttackerPages(cdp);
  }

  /** The sessions other than `self`: what `self` must never read anything of. */
  othersThan(self: BoundarySession): BoundarySession[] {
    return this.sessions.filter((s) => s !== self);
  }

  /** Every listening port to attack now (the test's own instruments left out), described. */
  scan(): PortTargets {
    const { targets } = scanListeningPorts([this.attackerProxy.port, this.canary.port]);
    return {
      targets,
      ports: targets.map((t) => t.port),
      describePort: (port) => {
        const t = targets.find((x) => x.port === port);
        return t ? this.describePort(t) : String(port);
      },
    };
  }

  /** Who owns a port, for the table. */
  describePort(p: ListeningPort): string {
    if (p.port === this.stack.port) return `${p.port} control plane (broker, CDP proxy)`;
    const command = p.command ?? '';
    if (/(^|\/)postgres\s/.test(command)) return `${p.port} Postgres`;
    if (/redis-server/.test(command)) return `${p.port} Redis`;
    const roleOf = (podId: string) => {
      const s = this.sessions.find((x) => x.podId === podId);
      return s ? `pod of ${s.tenant}'s session` : `unclaimed pod ${podId.slice(-6)}`;
    };
    const chromiumOf = /--user-data-dir=\S*\/pods\/([^/\s]+)\//.exec(command);
    if (chromiumOf) return `${p.port} Chromium DevTools, ${roleOf(chromiumOf[1]!)}`;
    for (const s of this.podRecords()) {
      if (s.pid !== p.pid) continue;
      return `${p.port} ${s.port === p.port ? 'agent' : 'agent (forwarding proxy)'}, ${roleOf(s.id)}`;
    }
    return `${p.port} ${command.split(' ')[0] ?? '?'}`;
  }

  private podRecords(): { id: string; pid: number; port: number }[] {
    const dir = path.join(this.ctx.dataDir, 'pods');
    const out: { id: string; pid: number; port: number }[] = [];
    let ids: string[] = [];
    try {
      ids = readdirSync(dir);
    } catch {
      return out;
    }
    for (const id of ids) {
      try {
        out.push(JSON.parse(readFileSync(path.join(dir, id, 'pod.json'), 'utf8')) as (typeof out)[number]);
      } catch {
        // not a local pod record (or gone)
      }
    }
    return out;
  }

  async close(): Promise<void> {
    for (const cdp of this.cdps) cdp.close();
    for (const b of this.browsers) await b.close().catch(() => undefined);
    await this.attackerProxy.close();
    await this.canary.close();
    await this.stack.close();
    await this.ctx.close();
  }
}

/**
 * The attacker's hostile pages over a CDP connection: one in the default context (through the pod's
 * forwarding proxy) and one in a context made with `proxyServer: 'direct://'` (a CDP client may pick
 * a proxy per context). Both at ATTACKER_A_ORIGIN, served by interception.
 */
export async function openAttackerPages(cdp: AttackerCdp): Promise<AttackerPages> {
  const proxied = await cdp.openPage();
  // A CDP client may also lift Chromium's own local-network-access checks for its origin.
  const { browserContextId } = await cdp.send<{ browserContextId: string }>('Target.createBrowserContext', {
    proxyServer: 'direct://',
    originsWithUniversalNetworkAccess: [ATTACKER_A_ORIGIN],
  });
  const direct = await cdp.openPage(browserContextId);
  for (const contextId of [undefined, browserContextId]) {
    await cdp
      .send('Browser.grantPermissions', {
        origin: ATTACKER_A_ORIGIN,
        permissions: ['localNetworkAccess', 'localNetwork', 'loopbackNetwork'],
        ...(contextId && { browserContextId: contextId }),
      })
      .catch(() => undefined);
  }
  for (const page of [proxied, direct]) {
    await page.serve(ATTACKER_A_ORIGIN, hostileSite());
    await page.navigate(`${ATTACKER_A_ORIGIN}/`);
  }
  return { cdp, proxied, direct, directContextId: browserContextId };
}
