/**
 * A full lifecycle with a secret in every field that can hold one (API key, proxy password,
 * storage_state cookie and localStorage values, connect_url and recording_url tokens), logged at
 * debug level with every Redis event captured: no secret appears in any log line, any event, any
 * API response that should not carry it, or any problem document. Labels are not secrets (shown).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { serveLocalSite, type LocalSite } from '../support/local-page.ts';
import { startAuthProxy, type AuthProxy } from '../support/auth-proxy.ts';
import { RawCdp } from '../runtime/raw-cdp.client.ts';
import { createLogger } from '../../core/logging/logger.ts';
import { startStack, type Stack } from '../../stack/stack.ts';

const secret = (what: string) => `${what}-${randomBytes(9).toString('hex')}`;
const PROXY_PASSWORD = secret('proxy-pw');
const COOKIE_VALUE = secret('cookie');
const LOCAL_STORAGE_VALUE = secret('ls');

describe('secrets reach no log line, event or problem document', { timeout: 120_000 }, () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;
  let apiKey: string;
  let site: LocalSite;
  let upstream: AuthProxy;
  let events: Redis;
  const logLines: string[] = [];
  const published: string[] = [];

  beforeAll(async () => {
    ctx = await TestContext.create({
      minReady: 1,
      maxTotal: 3,
      env: { VENTUS_HEADLESS: 'true', VENTUS_ALLOW_PRIVATE_TARGETS: 'true' },
    });
    const log = createLogger(
      'debug',
      { test: ctx.name },
      { write: (line: string) => void logLines.push(line) },
    );
    events = new Redis(ctx.redisUrl);
    events.on('pmessage', (_pattern: string, channel: string, message: string) =>
      published.push(`${channel} ${message}`),
    );
    await events.psubscribe(`${ctx.name}:*`);
    stack = await startStack(ctx.config, { databaseUrl: ctx.databaseUrl, redisUrl: ctx.redisUrl }, log);
    (ctx.config as { publicUrl: string }).publicUrl = stack.url;
    apiKey = (await ctx.seedKey(['sessions:read', 'sessions:write', 'profiles:read', 'profiles:write']))
      .apiKey;
    api = new ApiClient(stack.url, apiKey);
    site = await serveLocalSite();
    upstream = await startAuthProxy('alice', PROXY_PASSWORD);
  });
  afterAll(async () => {
    events?.disconnect();
    await upstream?.close();
    await site?.close();
    await stack?.close();
    await ctx?.close();
  });

  /** Every table of the database whose rows (cast to text) contain one of the values. */
  async function tablesHolding(values: string[]): Promise<string[]> {
    const { rows: tables } = await ctx.db.query<{ name: string }>(
      `SELECT quote_ident(table_name) AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    expect(tables.length).toBeGreaterThan(10);
    const found: string[] = [];
    for (const { name } of tables) {
      const { rows } = await ctx.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${name} t WHERE t::text LIKE ANY ($1)`,
        [values.map((v) => `%${v}%`)],
      );
      if (rows[0]!.n > 0) found.push(name);
    }
    return found;
  }

  it('through create, connect, keep-alive, snapshot, release, recording and bad requests', async () => {
    const responses: string[] = [];
    const keep = <T extends { body: unknown }>(res: T): T => {
      responses.push(JSON.stringify(res.body));
      return res;
    };
    const created = keep(
      await api.createSession({
        keep_alive_seconds: 60,
        labels: { team: 'billing' },
        proxy: { url: upstream.url, username: 'alice', password: PROXY_PASSWORD },
        recording: { enabled: true },
        storage_state: {
          cookies: [
            {
              name: 'sid',
              value: COOKIE_VALUE,
              domain: '127.0.0.1',
              path: '/',
              expires: -1,
              httpOnly: true,
              secure: false,
              sameSite: 'Lax',
            },
          ],
          origins: [{ origin: site.url, localStorage: [{ name: 'token', value: LOCAL_STORAGE_VALUE }] }],
        },
      }),
    );
    expect(created.status).toBe(202);
    // While the session waits for its pod its secrets are in its row, sealed: no table holds them in clear.
    expect(await tablesHolding([PROXY_PASSWORD, COOKIE_VALUE, LOCAL_STORAGE_VALUE])).toEqual([]);
    const running = await api.waitFor(created.body.id, ['RUNNING'], 60_000);
    // Once the pod has them, not even the sealed copy is left.
    const { rows: cfg } = await ctx.db.query<{ sealed: boolean }>(
      `SELECT config ? 'sealed' AS sealed FROM sessions WHERE id = $1`,
      [created.body.id],
    );
    expect(cfg[0]!.sealed).toBe(false);
    responses.push(JSON.stringify(running));
    const connectToken = new URL(running.connect_url).searchParams.get('token')!;
    expect(connectToken.length).toBeGreaterThan(20);

    const cdp = await RawCdp.connect(running.connect_url);
    await cdp.send('Browser.getVersion');
    keep(await api.request('POST', `/v1/sessions/${running.id}:keepalive`, { body: {} }));
    const snapshot = keep(
      await api.request('POST', `/v1/sessions/${running.id}/profile-snapshot`, { body: { name: 'ada' } }),
    );
    expect(snapshot.status).toBe(201);
    keep(await api.request('GET', `/v1/sessions/${running.id}`));
    keep(await api.request('GET', '/v1/sessions?limit=10'));
    cdp.ws.terminate();
    keep(await api.release(running.id));
    await expect
      .poll(async () => (await api.request('GET', `/v1/sessions/${running.id}/recording`)).status, {
        timeout: 60_000,
      })
      .toBe(200);
    const link = await api.request<{ recording_url: string }>('GET', `/v1/sessions/${running.id}/recording`);
    const recordingToken = new URL(link.body.recording_url).searchParams.get('token')!;
    expect(recordingToken.length).toBeGreaterThan(20);
    expect((await fetch(link.body.recording_url)).status).toBe(200);

    // Bad requests that carry secrets: the problem documents must not echo them.
    const problems = [
      await api.createSession({ proxy: { url: 'ftp://nope', username: 'alice', password: PROXY_PASSWORD } }),
      await api.createSession({
        storage_state: { cookies: [{ name: 'x', value: COOKIE_VALUE }], origins: 'no' },
      }),
      await new ApiClient(stack.url, `${apiKey}x`).request('GET', '/v1/sessions'),
    ];
    for (const p of problems) {
      expect(p.status).toBeGreaterThanOrEqual(400);
      responses.push(JSON.stringify(p.body));
    }

    const secrets = {
      api_key_secret: apiKey.split('.')[1]!,
      proxy_password: PROXY_PASSWORD,
      proxy_basic_auth: Buffer.from(`alice:${PROXY_PASSWORD}`).toString('base64'),
      cookie_value: COOKIE_VALUE,
      local_storage_value: LOCAL_STORAGE_VALUE,
      connect_token: connectToken,
      recording_token: recordingToken,
    };
    const logs = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(20);
    expect(published.length).toBeGreaterThan(0);
    for (const [name, value] of Object.entries(secrets)) {
      expect(logs.includes(value), `${name} in a log line`).toBe(false);
      expect(published.join('\n').includes(value), `${name} in a Redis event`).toBe(false);
    }
    // Responses carry what their owner asked for (connect_url, recording_url) but never the
    // proxy password or the state's values.
    const answered = responses.join('\n');
    for (const name of [
      'proxy_password',
      'proxy_basic_auth',
      'cookie_value',
      'local_storage_value',
    ] as const) {
      expect(answered.includes(secrets[name]), `${name} in an API response`).toBe(false);
    }
    // At rest: no table (every column, cast to text) holds a planted value after the session.
    expect(await tablesHolding([PROXY_PASSWORD, COOKIE_VALUE, LOCAL_STORAGE_VALUE])).toEqual([]);
    // Labels are not secrets: they are logged and returned as given (documented).
    expect(answered).toContain('billing');
  });
});
