/**
 * SSRF through a session's plumbing: `proxy.url` and the origins / cookie URLs of a storage_state
 * (inline on a session, or stored in a profile) may not name loopback, link-local, metadata,
 * unspecified or private hosts (422), unless VENTUS_ALLOW_PRIVATE_TARGETS=true; metadata never.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { classifyHost } from '../../core/security/network-target.ts';

const METADATA = [
  'http://169.254.169.254',
  'http://169.254.169.254:80',
  'http://metadata.google.internal',
  'http://METADATA.google.internal.',
  'http://[fd00:ec2::254]',
  'http://169.254.170.2',
  'http://[::ffff:169.254.169.254]',
  'http://2852039166', // 169.254.169.254 as one decimal number (the URL parser normalises it)
  'http://0xa9.0xfe.0xa9.0xfe',
];
const LOOPBACK_AND_CO = [
  'http://127.0.0.1:3128',
  'http://127.1.2.3:8080',
  'http://localhost:3128',
  'http://LOCALHOST.:3128',
  'http://api.localhost:3128',
  'http://[::1]:3128',
  'http://[::ffff:127.0.0.1]:3128',
  'http://[0:0:0:0:0:0:0:1]:3128',
  'http://2130706433:3128',
  'http://0x7f000001:3128',
  'http://0177.0.0.1:3128',
  'http://0.0.0.0:3128',
  'http://0:3128',
  'http://[::]:3128',
  'http://169.254.1.1:3128',
  'http://[fe80::1]:3128',
  'http://[febf::1]:3128',
];
const PRIVATE = [
  'http://10.0.0.5:3128',
  'http://172.16.0.1:3128',
  'http://172.31.255.255:3128',
  'http://192.168.1.1:3128',
  'http://100.64.0.1:3128',
  'http://[fd12:3456::1]:3128',
  'http://[fc00::1]:3128',
];
const PUBLIC = [
  'http://203.0.113.10:3128',
  'http://proxy.example.com:3128',
  'http://172.32.0.1:3128',
  'http://[2001:db8::1]:3128',
];

describe('SSRF: classification of hosts', () => {
  it('classifies every spelling of an internal address, and leaves public ones alone', () => {
    const host = (u: string) => new URL(u).hostname;
    for (const u of METADATA) expect(classifyHost(host(u)), u).toBe('metadata');
    for (const u of LOOPBACK_AND_CO)
      expect(['loopback', 'unspecified', 'link-local'], u).toContain(classifyHost(host(u)));
    for (const u of PRIVATE) expect(classifyHost(host(u)), u).toBe('private');
    for (const u of PUBLIC) expect(classifyHost(host(u)), u).toBe('public');
  });
});

describe('SSRF through proxy.url and storage_state', () => {
  let strict: TestContext;
  let relaxed: TestContext;
  let strictServer: Awaited<ReturnType<TestContext['startApi']>>;
  let relaxedServer: Awaited<ReturnType<TestContext['startApi']>>;
  let api: ApiClient;
  let allowing: ApiClient;

  beforeAll(async () => {
    strict = await TestContext.create({ maxTotal: 50 });
    relaxed = await TestContext.create({ maxTotal: 50, env: { VENTUS_ALLOW_PRIVATE_TARGETS: 'true' } });
    strictServer = await strict.startApi();
    relaxedServer = await relaxed.startApi();
    api = new ApiClient(
      strictServer.url,
      (await strict.seedKey(['sessions:read', 'sessions:write', 'profiles:read', 'profiles:write'])).apiKey,
    );
    allowing = new ApiClient(relaxedServer.url, (await relaxed.seedKey()).apiKey);
  });
  afterAll(async () => {
    await strictServer?.close();
    await relaxedServer?.close();
    await strict?.close();
    await relaxed?.close();
  });

  async function sessionCount(ctx: TestContext): Promise<number> {
    const { rows } = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions');
    return rows[0]!.n;
  }

  it('refuses every internal proxy.url with a 422 problem, creating nothing', async () => {
    const before = await sessionCount(strict);
    for (const url of [...METADATA, ...LOOPBACK_AND_CO, ...PRIVATE]) {
      const res = await api.createSession({ proxy: { url, username: 'u', password: 'p' } });
      expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(String(res.body.detail)).toMatch(/^proxy\.url points at/);
      // The password is never echoed back.
      expect(JSON.stringify(res.body)).not.toContain('"p"');
    }
    expect(await sessionCount(strict)).toBe(before);
  });

  it('admits a public proxy', async () => {
    for (const url of PUBLIC) {
      const res = await api.createSession({ proxy: { url } });
      expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBe(202);
      await api.release(res.body.id);
    }
  });

  it('refuses internal storage_state origins and cookie URLs on sessions and profiles', async () => {
    for (const url of [...METADATA, 'http://127.0.0.1:3000', 'https://localhost', 'http://10.1.2.3']) {
      const origin = new URL(url).origin;
      const viaOrigin = await api.createSession({
        storage_state: { origins: [{ origin, localStorage: [{ name: 'k', value: 'v' }] }] },
      });
      expect(viaOrigin.status, `${origin}: ${JSON.stringify(viaOrigin.body)}`).toBe(422);
      expect(String(viaOrigin.body.detail)).toContain('storage_state.origins[0].origin');
      const viaCookie = await api.createSession({
        storage_state: { cookies: [{ name: 'c', value: 'v', url }] },
      });
      expect(viaCookie.status, `${url}: ${JSON.stringify(viaCookie.body)}`).toBe(422);
      const profile = await api.request('POST', '/v1/profiles', {
        body: { name: `p-${Math.random()}`, storage_state: { origins: [{ origin, localStorage: [] }] } },
      });
      expect(profile.status, `${origin}: ${JSON.stringify(profile.body)}`).toBe(422);
    }
    // ...and a later version of a good profile cannot smuggle one in either.
    const good = await api.request<{ id: string }>('POST', '/v1/profiles', {
      body: {
        name: 'good',
        storage_state: { origins: [{ origin: 'https://example.com', localStorage: [] }] },
      },
    });
    expect(good.status).toBe(201);
    const bad = await api.request('POST', `/v1/profiles/${good.body.id}/versions`, {
      body: { storage_state: { origins: [{ origin: 'http://169.254.169.254', localStorage: [] }] } },
    });
    expect(bad.status).toBe(422);
    const { rows } = await strict.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM profile_versions WHERE profile_id = $1',
      [good.body.id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('VENTUS_ALLOW_PRIVATE_TARGETS=true admits loopback and private targets, never metadata', async () => {
    for (const url of ['http://127.0.0.1:3128', 'http://[::1]:3128', 'http://10.0.0.5:3128']) {
      const res = await allowing.createSession({ proxy: { url } });
      expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBe(202);
      await allowing.release(res.body.id);
    }
    for (const url of METADATA) {
      const res = await allowing.createSession({ proxy: { url } });
      expect(res.status, url).toBe(422);
      expect(String(res.body.detail)).toContain('cloud metadata');
    }
  });
});
