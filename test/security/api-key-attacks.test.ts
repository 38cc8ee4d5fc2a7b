/**
 * API-key attacks on /v1/*: revoked keys, another workspace's key, malformed `vs_` tokens, oversized
 * and duplicated headers. Every refusal is a 4xx (a problem document where Fastify answers), never a
 * 5xx, and nothing is created. The secret comparison is constant-time by construction (checked in
 * the source: a key-id lookup, then timingSafeEqual over fixed-length SHA-256 digests).
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { ADMIN_SCOPES, keyIdOf } from '../support/workspace-fixtures.ts';
import { rawRequest } from '../support/raw-http.ts';
import { authenticateApiKey } from '../../core/db/workspaces.repository.ts';

describe('API-key attacks', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let port: number;
  let key: string;
  let otherKey: string;
  let otherSession: string;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 20, env: { VENTUS_RATE_LIMIT_PER_MINUTE: '1000000' } });
    server = await ctx.startApi();
    port = Number(new URL(server.url).port);
    key = (await ctx.seedKey(ADMIN_SCOPES)).apiKey;
    otherKey = (await ctx.seedKey(ADMIN_SCOPES)).apiKey;
    otherSession = (await new ApiClient(server.url, otherKey).createSession()).body.id;
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  const get = (authorization: string | undefined, path = '/v1/sessions') =>
    fetch(`${server.url}${path}`, { headers: authorization === undefined ? {} : { authorization } });

  it('compares secrets in constant time: id lookup, then timingSafeEqual over SHA-256 digests', async () => {
    const source = await readFile(new URL('../../core/db/workspaces.repository.ts', import.meta.url), 'utf8');
    const fn = source.slice(source.indexOf('export async function authenticateApiKey'));
    const body = fn.slice(0, fn.indexOf('\n}\n'));
    expect(body).toContain('timingSafeEqual(');
    expect(body).toMatch(/WHERE id = \$1/);
    // The digests are compared, never the secrets, and an unknown id still pays for one comparison.
    expect(body).not.toMatch(/secret\s*[!=]==|[!=]==\s*parsed\.secret/);
    expect(body).toMatch(/Buffer\.alloc\(presented\.length\)/);
    expect(source).toMatch(/createHash\('sha256'\)/);
    // Behaviour: a secret differing in its last character, a prefix, or an extension fails.
    const secret = key.slice(30);
    const flip = (c: string) => (c === 'A' ? 'B' : 'A');
    for (const variant of [
      `${key.slice(0, -1)}${flip(key.at(-1)!)}`,
      `${key.slice(0, 30)}${flip(secret[0]!)}${secret.slice(1)}`,
      key.slice(0, -1),
      `${key}A`,
    ]) {
      expect(await authenticateApiKey(ctx.db, variant), variant).toBeUndefined();
    }
    expect(await authenticateApiKey(ctx.db, key)).toMatchObject({ keyId: keyIdOf(key) });
  });

  it('a revoked key stops working at once, for reads and writes', async () => {
    const admin = new ApiClient(server.url, key);
    const made = await admin.request<{ id: string; api_key: string }>('POST', '/v1/keys', {
      body: { scopes: ['sessions:read', 'sessions:write'] },
    });
    expect(made.status).toBe(201);
    const victim = new ApiClient(server.url, made.body.api_key);
    expect((await victim.request('GET', '/v1/sessions')).status).toBe(200);
    expect((await admin.request('DELETE', `/v1/keys/${made.body.id}`)).status).toBe(204);
    for (const res of [await victim.request('GET', '/v1/sessions'), await victim.createSession()]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });

  it("another workspace's key sees none of this workspace's sessions (404), and lists only its own", async () => {
    const api = new ApiClient(server.url, key);
    expect((await api.getSession(otherSession)).status).toBe(404);
    const list = await api.request<{ items: { id: string }[] }>('GET', '/v1/sessions');
    expect(list.body.items.map((s) => s.id)).not.toContain(otherSession);
  });

  it('malformed vs_ tokens are 401 problems, never 5xx', async () => {
    const id = keyIdOf(key);
    const secret = key.slice(30);
    const tokens = [
      '',
      'vs_',
      'vs_.',
      key.replace(/^vs_/, 'sk_'),
      key.replace(/^vs_/, 'VS_'),
      key.slice(0, 20),
      key.slice(0, 29),
      `vs_${id}`,
      `vs_${id}.`,
      `vs_${id}..${secret}`,
      `vs_${id.toLowerCase()}.${secret}`,
      `vs_${'Z'.repeat(26)}.${secret}`,
      `vs_${id}.${secret}${'x'.repeat(10_000)}`,
      'x'.repeat(10 * 1024),
      `vs_${id}.${secret.slice(0, -1)}é`,
      `vs_${id}.${secret.slice(0, -2)}😀`,
      `vs_${id}.${secret.slice(0, -1)}\u00a0`,
      `vs_${id}.${secret}' OR '1'='1`,
      `vs_${id}.%00${secret}`,
      `  ${key}  junk`,
    ];
    for (const token of tokens) {
      // fetch refuses non-Latin-1 header values: send those as UTF-8 bytes over a raw socket.
      const res = await rawRequest(
        port,
        Buffer.from(
          `GET /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
        ),
      );
      expect(res.status, `${JSON.stringify(token.slice(0, 60))} -> ${res.text.slice(0, 200)}`).toBe(401);
      expect(res.text).toMatch(/content-type: application\/problem\+json/i);
    }
    for (const authorization of [key, `Basic ${key}`, `bearer${key}`, 'Bearer', 'Bearer    ']) {
      expect((await get(authorization)).status, authorization).toBe(401);
    }
    expect((await get(undefined)).status).toBe(401);
  });

  it('NUL and other control bytes in Authorization are refused by the parser (400), never 5xx', async () => {
    for (const bad of ['\u0000', '\r', '\u0001', '\u007f']) {
      const res = await rawRequest(
        port,
        Buffer.from(
          `GET /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key.slice(0, 40)}${bad}${key.slice(40)}\r\nConnection: close\r\n\r\n`,
          'latin1',
        ),
      );
      expect([400, 401], `${JSON.stringify(bad)} -> ${res.text.slice(0, 120)}`).toContain(res.status);
    }
  });

  it('oversized headers answer 431 (or 400), never 5xx, and the server keeps serving', async () => {
    const cases = [
      `Authorization: Bearer ${'v'.repeat(64 * 1024)}\r\n`,
      `Authorization: Bearer ${key}\r\nX-Reason: ${'r'.repeat(64 * 1024)}\r\n`,
      Array.from({ length: 2000 }, (_, i) => `X-H${i}: ${'a'.repeat(20)}\r\n`).join(''),
    ];
    for (const headers of cases) {
      const res = await rawRequest(port, `GET /v1/sessions HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
      expect([400, 431], res.text.slice(0, 120)).toContain(res.status);
    }
    expect((await get(`Bearer ${key}`)).status).toBe(200);
  });

  it('two Authorization headers are refused (400), whichever comes first', async () => {
    for (const pair of [
      [key, otherKey],
      [key, 'vs_bogus'],
      ['vs_bogus', key],
    ]) {
      const res = await rawRequest(
        port,
        `GET /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${pair[0]}\r\nAuthorization: Bearer ${pair[1]}\r\nConnection: close\r\n\r\n`,
      );
      expect(res.status, res.text.slice(0, 200)).toBe(400);
      expect(res.text).toMatch(/application\/problem\+json/);
    }
  });
});
