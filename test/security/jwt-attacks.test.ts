/**
 * JWT attacks on the connect_url token (the proxy's upgrade), the recording URL, and across the
 * three audiences (cdp, live-view, recording): alg none, HS/RS confusion, foreign keys in the header
 * (jwk, jku, kid), a wrong key, expiry, tampered claims, another session's path, an ended session, a
 * token minted for workspace X naming a session of workspace Y. Real stack, real Chromium.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, base64url, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { upgradeStatus } from '../support/raw-http.ts';
import type { Stack } from '../../stack/stack.ts';

const SECRET = 'jwt-attacks-test-secret-0123456789abcdef';
const key = new TextEncoder().encode(SECRET);

interface Claims {
  ws: string;
  sub: string;
  aud?: string | string[];
  iss?: string;
  exp?: number;
}

/** A token signed with our own secret: what the issuer would mint for these claims. */
function mint(c: Claims, header: Record<string, unknown> = {}): Promise<string> {
  const jwt = new SignJWT({ ws: c.ws })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header })
    .setIssuer(c.iss ?? 'ventus-sessions')
    .setSubject(c.sub)
    .setIssuedAt();
  if (c.aud !== undefined) jwt.setAudience(c.aud);
  if (c.exp !== undefined) jwt.setExpirationTime(c.exp);
  return jwt.sign(key);
}

/** An HS256 signature computed by hand (jose refuses an empty key). */
function hmacToken(header: object, payload: string, secret: string): string {
  const input = `${part(header)}.${payload}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const part = (value: object) => base64url.encode(JSON.stringify(value));
const parts = (token: string) => token.split('.') as [string, string, string];
const decode = (segment: string) => JSON.parse(new TextDecoder().decode(base64url.decode(segment))) as object;

describe('JWT attacks: connect_url, recording URL, audiences', () => {
  let ctx: TestContext;
  let stack: Stack;
  let a: { id: string; token: string; ws: string };
  let b: { id: string; token: string; ws: string };
  let ended: { id: string; token: string };

  beforeAll(async () => {
    ctx = await TestContext.create({
      minReady: 2,
      maxTotal: 4,
      env: { VENTUS_JWT_SECRET: SECRET, VENTUS_HEADLESS: 'true', VENTUS_RATE_LIMIT_PER_MINUTE: '1000000' },
    });
    stack = await ctx.startStack();
    const start = async () => {
      const seeded = await ctx.seedKey();
      const api = new ApiClient(stack.url, seeded.apiKey);
      // keep_alive > 0: the probes below connect and drop, which must not release the session.
      const created = await api.createSession({ keep_alive_seconds: 600 });
      const running = await api.waitFor(created.body.id, ['RUNNING'], 60_000);
      const token = new URL(running.connect_url).searchParams.get('token')!;
      return { id: running.id, token, ws: seeded.workspaceId, api };
    };
    a = await start();
    b = await start();
    const c = await start();
    await c.api.release(c.id);
    ended = { id: c.id, token: c.token };
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
  });

  const cdp = (id: string, token: string | undefined, headers: Record<string, string> = {}) =>
    upgradeStatus(
      stack.port,
      `/v1/sessions/${id}/cdp${token === undefined ? '' : `?token=${token}`}`,
      headers,
    );

  it('the genuine token opens its session (query or Authorization header)', async () => {
    expect(await cdp(a.id, a.token)).toBe(101);
    expect(await cdp(a.id, undefined, { Authorization: `Bearer ${a.token}` })).toBe(101);
    expect(await mint({ ws: a.ws, sub: a.id, aud: 'cdp' })).toBeTypeOf('string');
  });

  it('alg none, RS256/ES256, HS256 keyed with a public key, embedded jwk/jku/kid, wrong key: 401', async () => {
    const [header, payload] = parts(a.token);
    const claims = decode(payload);
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const ec = await generateKeyPair('ES256', { extractable: true });
    const publicPem = await exportSPKI(rsa.publicKey);
    const signed = (alg: string, signingKey: CryptoKey | Uint8Array, extra: Record<string, unknown> = {}) =>
      new SignJWT(claims as Record<string, unknown>)
        .setProtectedHeader({ alg, typ: 'JWT', ...extra })
        .sign(signingKey);
    const forged = [
      `${part({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      `${part({ alg: 'None', typ: 'JWT' })}.${payload}.`,
      `${part({ alg: 'none' })}.${payload}`,
      `${part({ alg: 'HS256', typ: 'JWT' })}.${payload}.`,
      `${header}.${payload}.`,
      await signed('RS256', rsa.privateKey),
      await signed('RS256', rsa.privateKey, { jwk: await exportJWK(rsa.publicKey) }),
      await signed('ES256', ec.privateKey, { jwk: await exportJWK(ec.publicKey) }),
      await signed('RS256', rsa.privateKey, { jku: 'http://169.254.169.254/keys.json', kid: 'k1' }),
      await signed('HS256', new TextEncoder().encode(publicPem)),
      // HS256 keyed with the empty string (what a kid pointing at /dev/null would give).
      hmacToken({ alg: 'HS256', typ: 'JWT', kid: '../../../../dev/null' }, payload, ''),
      await signed('HS256', new TextEncoder().encode('a-completely-different-secret-of-length-40')),
      await signed('HS512', key),
      hmacToken(
        { alg: 'HS256', typ: 'JWT', crit: ['x-must-understand'], 'x-must-understand': 1 },
        payload,
        SECRET,
      ),
    ];
    for (const token of forged) {
      expect(await cdp(a.id, token), JSON.stringify(decode(parts(token)[0]))).toBe(401);
      expect(await cdp(a.id, undefined, { Authorization: `Bearer ${token}` })).toBe(401);
    }
  });

  it('tampered claims with the signature kept, expired tokens and foreign issuers: 401', async () => {
    const [header, payload, signature] = parts(a.token);
    const claims = decode(payload) as Record<string, unknown>;
    const tampered = [
      { ...claims, sub: b.id },
      { ...claims, ws: b.ws },
      { ...claims, aud: 'live-view' },
      { ...claims, exp: 1 },
      { ...claims, extra: true },
    ].map((c) => `${header}.${part(c)}.${signature}`);
    for (const token of tampered) expect(await cdp(a.id, token)).toBe(401);
    expect(await cdp(b.id, `${header}.${part({ ...claims, sub: b.id, ws: b.ws })}.${signature}`)).toBe(401);
    const past = Math.floor(Date.now() / 1000) - 60;
    expect(await cdp(a.id, await mint({ ws: a.ws, sub: a.id, aud: 'cdp', exp: past }))).toBe(401);
    expect(await cdp(a.id, await mint({ ws: a.ws, sub: a.id, aud: 'cdp', iss: 'someone-else' }))).toBe(401);
    expect(await cdp(a.id, await mint({ ws: a.ws, sub: a.id }))).toBe(401); // no audience
    for (const junk of [
      '',
      'a.b.c',
      `${a.token}x`,
      `${a.token}.`,
      'x'.repeat(10_000),
      encodeURIComponent('\u0000'),
    ])
      expect(await cdp(a.id, junk), junk.slice(0, 20)).toBe(401);
  });

  it("session A's token on B's path is 401; X's signed claims on Y's session 404; an ended session 410", async () => {
    expect(await cdp(b.id, a.token)).toBe(401);
    expect(await cdp(a.id, b.token)).toBe(401);
    // Even a token the issuer signed cannot name another workspace's session.
    expect(await cdp(b.id, await mint({ ws: a.ws, sub: b.id, aud: 'cdp' }))).toBe(404);
    expect(await cdp(ended.id, ended.token)).toBe(410);
    // Path tricks: another session's id encoded, a trailing slash, a dot segment.
    for (const path of [
      `/v1/sessions/${encodeURIComponent(a.id)}%2F..%2F${b.id}/cdp?token=${a.token}`,
      `/v1/sessions/${a.id}/cdp/?token=${a.token}`,
      `/v1/sessions/${b.id}/../${a.id}/cdp?token=${b.token}`,
      `/v1/sessions/${a.id}/cdp?token=${b.token}&token=${a.token}`,
    ])
      expect(await upgradeStatus(stack.port, path), path).not.toBe(101);
  });

  it('audiences do not cross: live-view and recording tokens never open CDP, and vice versa', async () => {
    const liveView = await stack.services.tokens.liveViewToken(a.ws, a.id);
    const recording = await stack.services.tokens.recordingToken(a.ws, a.id, new Date(Date.now() + 60_000));
    expect(await cdp(a.id, liveView)).toBe(401);
    expect(await cdp(a.id, recording)).toBe(401);
    expect(await cdp(a.id, await mint({ ws: a.ws, sub: a.id, aud: 'admin' }))).toBe(401);
    await expect(stack.services.tokens.verify(a.token, 'recording')).rejects.toThrow();
    await expect(stack.services.tokens.verify(a.token, 'live-view')).rejects.toThrow();
    await expect(stack.services.tokens.verifyLiveView(a.token)).rejects.toThrow();
    await expect(stack.services.tokens.verifyLiveView(recording)).rejects.toThrow();
    // The recording download refuses CDP and live-view tokens, and recording tokens of other sessions.
    const download = (id: string, token: string) =>
      fetch(`${stack.url}/recordings/${id}?token=${encodeURIComponent(token)}`).then((r) => r.status);
    for (const token of [a.token, liveView, await mint({ ws: a.ws, sub: a.id, aud: 'cdp' })])
      expect(await download(a.id, token)).toBe(401);
    expect(await download(b.id, recording)).toBe(401);
    const expired = await mint({
      ws: a.ws,
      sub: a.id,
      aud: 'recording',
      exp: Math.floor(Date.now() / 1000) - 1,
    });
    expect(await download(a.id, expired)).toBe(401);
    // A genuine recording token of a session that was not recorded: nothing to download.
    expect(await download(a.id, recording)).toBe(404);
    // The live view refuses a CDP token (whatever its page answers, never the viewer's stream).
    const viewer = await fetch(`${stack.url}/v/${a.id}/status?token=${a.token}`);
    expect(((await viewer.json()) as { state: string }).state).not.toBe('live');
    expect((await fetch(`${stack.url}/v/${a.id}?token=${a.token}`)).status).toBeGreaterThanOrEqual(400);
    expect(await upgradeStatus(stack.port, `/v/${a.id}/websockify?token=${a.token}`)).not.toBe(101);
  });
});
