/**
 * Viewer tokens and the checks behind every live view page and VNC connect, against a real stack
 * (Postgres, Redis, BullMQ) on the sim driver, whose pods have no desktop: the headless answer too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TestContext } from '../support/test-context.ts';
import { ApiClient, type SessionBody } from '../support/api-client.ts';
import { LiveViewTokenExpiredError, SessionTokens } from '../../core/security/cdp-token.ts';
import { checkViewer } from '../../proxy/live-view.access.ts';
import type { Stack } from '../../stack/stack.ts';

const SECRET = 'a-test-secret-of-at-least-32-characters!';
const MINUTES = 60_000;

describe('viewer tokens', () => {
  const tokens = new SessionTokens(SECRET);

  it('are read-only unless asked, valid 5 minutes, for one workspace and session', async () => {
    const now = new Date('2026-01-01T10:00:00Z');
    const readOnly = await tokens.liveViewToken('ws1', 's1', now);
    expect(await tokens.verifyLiveView(readOnly, now)).toEqual({
      workspaceId: 'ws1',
      sessionId: 's1',
      audience: 'live-view',
      interactive: false,
      issuedAt: now,
      expiresAt: new Date('2026-01-01T10:05:00Z'),
    });
    const interactive = await tokens.liveViewToken('ws1', 's1', now, { interactive: true });
    expect((await tokens.verifyLiveView(interactive, now)).interactive).toBe(true);
  });

  it('expire: a typed error, and only ignoreExpiry (explaining a disconnect) reads them after', async () => {
    const now = new Date('2026-01-01T10:00:00Z');
    const token = await tokens.liveViewToken('ws1', 's1', now);
    const later = new Date(now.getTime() + 5 * MINUTES + 1_000);
    await expect(tokens.verifyLiveView(token, later)).rejects.toBeInstanceOf(LiveViewTokenExpiredError);
    expect((await tokens.verifyLiveView(token, later, { ignoreExpiry: true })).sessionId).toBe('s1');
  });

  it('refuse a CDP token, another key, and a tampered claim', async () => {
    const cdp = await tokens.cdpToken('ws1', 's1', new Date());
    await expect(tokens.verifyLiveView(cdp)).rejects.toThrow();
    const other = await new SessionTokens(`${SECRET}-other`).liveViewToken('ws1', 's1');
    await expect(tokens.verifyLiveView(other)).rejects.not.toBeInstanceOf(LiveViewTokenExpiredError);
    const [header, payload, signature] = (await tokens.liveViewToken('ws1', 's1')).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, interactive: true })).toString('base64url');
    await expect(tokens.verifyLiveView(`${header}.${forged}.${signature}`)).rejects.toThrow();
  });
});

describe('live view access on a stack without desktops (sim driver)', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;
  let workspaceId: string;
  let session: SessionBody;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 0, maxTotal: 3, env: { VENTUS_DRIVER: 'sim' } });
    stack = await ctx.startStack();
    const key = await ctx.seedKey();
    workspaceId = key.workspaceId;
    api = new ApiClient(stack.url, key.apiKey);
    const created = await api.createSession({});
    session = await api.waitFor(created.body.id, ['RUNNING']);
  });

  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
  });

  const tokenFor = (ws: string, id: string, now = new Date(), interactive = false) =>
    stack.services.tokens.liveViewToken(ws, id, now, { interactive });
  const ago = (ms: number) => new Date(Date.now() - ms);

  it('lets a valid token of this session through, with its route and mode', async () => {
    const access = await checkViewer(stack.services, session.id, await tokenFor(workspaceId, session.id));
    expect(access).toMatchObject({ ok: true, claims: { interactive: false, workspaceId } });
    const interactive = await tokenFor(workspaceId, session.id, new Date(), true);
    expect(await checkViewer(stack.services, session.id, interactive)).toMatchObject({
      ok: true,
      claims: { interactive: true },
    });
  });

  it('refuses no token, garbage, another session, another workspace, and an expired link', async () => {
    const cases: [string | null, string, string][] = [
      [null, session.id, 'invalid'],
      ['not-a-jwt', session.id, 'invalid'],
      [await tokenFor(workspaceId, '01JC1AMQX4N3PWV9MR2BCKDH7E'), session.id, 'invalid'],
      [await tokenFor('01JC1AMQX4N3PWV9MR2BCKDH7F', session.id), session.id, 'not-found'],
      [await tokenFor(workspaceId, session.id, ago(6 * MINUTES)), session.id, 'expired'],
    ];
    for (const [token, id, state] of cases)
      expect(await checkViewer(stack.services, id, token), state).toMatchObject({ ok: false, state });
    const expired = await checkViewer(stack.services, session.id, cases[4]![0]);
    expect(expired).toMatchObject({ status: 401, problem: 'link-expired' });
  });

  it('answers a headless (desktop-less) session with live-view-unavailable: API, page and socket', async () => {
    const res = await api.request('POST', `/v1/sessions/${session.id}/live-view`, {
      body: { interactive: false },
    });
    expect(res.status).toBe(409);
    expect(res.body.type).toMatch(/\/errors\/live-view-unavailable$/);

    const url = `${stack.url}/v/${session.id}?token=${await tokenFor(workspaceId, session.id)}`;
    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(409);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await page.text()).toContain('Live view unavailable');

    const socketUrl = url.replace('http', 'ws').replace('?token', '/websockify?token');
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(socketUrl);
      ws.once('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
      ws.once('open', () => reject(new Error('opened')));
      ws.once('error', reject);
    });
    expect(status).toBe(409);
  });

  it('serves noVNC from the package, and nothing outside it', async () => {
    const rfb = await fetch(`${stack.url}/v/_novnc/core/rfb.js`);
    expect(rfb.status).toBe(200);
    expect(rfb.headers.get('content-type')).toContain('text/javascript');
    expect(await rfb.text()).toContain('export default class RFB');
    for (const path of [
      '/v/_novnc/../package.json',
      '/v/_novnc/core/%2e%2e/%2e%2e/package.json',
      '/v/_novnc/x.json',
    ])
      expect((await fetch(`${stack.url}${path}`)).status, path).toBe(404);
    expect((await fetch(`${stack.url}/v/_assets/viewer.js`)).status).toBe(200);
  });

  it('after the session ends: ended (even for an expired link when explaining), no link, 409', async () => {
    const expiredToken = await tokenFor(workspaceId, session.id, ago(6 * MINUTES));
    expect((await api.release(session.id)).status).toBe(200);
    const fresh = await tokenFor(workspaceId, session.id);
    expect(await checkViewer(stack.services, session.id, fresh)).toMatchObject({ ok: false, state: 'ended' });
    expect(await checkViewer(stack.services, session.id, expiredToken, { explainOnly: true })).toMatchObject({
      ok: false,
      state: 'ended',
    });
    expect(await checkViewer(stack.services, session.id, expiredToken)).toMatchObject({ state: 'expired' });
    const status = await fetch(`${stack.url}/v/${session.id}/status?token=${expiredToken}`);
    expect(await status.json()).toEqual({ state: 'ended' });
    expect((await api.request('POST', `/v1/sessions/${session.id}/live-view`)).status).toBe(409);
  });
});
