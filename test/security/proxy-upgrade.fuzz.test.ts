/**
 * Property-based fuzzing of the proxy's upgrade path over raw sockets: malformed upgrade requests
 * (bad or missing Sec-WebSocket-Key / Version / Upgrade / Connection, bad and huge paths and query
 * strings, stray tokens), garbage bytes, and slowloris-style partial headers. The answer is always
 * a clean 4xx or a closed socket, never a 5xx or a crash; partial headers are cut by the headers
 * timeout; and the proxy still serves a real CDP connection to Chromium afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import net from 'node:net';
import { TestContext } from '../support/test-context.ts';
import { ApiClient, type SessionBody } from '../support/api-client.ts';
import { rawRequest, upgradeRequest } from '../support/raw-http.ts';
import { RawCdp } from '../runtime/raw-cdp.client.ts';
import { HEADERS_TIMEOUT_MS } from '../../broker/app.ts';
import type { Stack } from '../../stack/stack.ts';

describe('fuzzing the proxy upgrade path', () => {
  let ctx: TestContext;
  let stack: Stack;
  let session: SessionBody;
  let token: string;
  const outcomes = new Map<string, number>();

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 1, maxTotal: 2, env: { VENTUS_HEADLESS: 'true' } });
    stack = await ctx.startStack();
    const api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
    // keep_alive > 0: an accepted fuzz upgrade that disconnects must not release the session.
    const created = await api.createSession({ keep_alive_seconds: 600 });
    session = await api.waitFor(created.body.id, ['RUNNING'], 60_000);
    token = new URL(session.connect_url).searchParams.get('token')!;
  }, 60_000);
  afterAll(async () => {
    console.log('proxy upgrade fuzz outcomes:', Object.fromEntries(outcomes));
    await stack?.close();
    await ctx?.close();
  });

  const record = (status: number | undefined) => {
    const key = status === undefined ? 'closed' : String(status);
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  };

  async function stillServesCdp(): Promise<void> {
    const cdp = await RawCdp.connect(session.connect_url);
    expect(await cdp.send('Browser.getVersion')).toHaveProperty('product');
    cdp.close();
  }

  const weirdId = fc.oneof(
    fc.constant('SESSION'),
    fc.string({ maxLength: 40, unit: 'binary' }).map((s) => encodeURIComponent(s)),
    fc.constantFrom('', '..', '%2e%2e', '%00', '%', '%E0%A4%A', '%ff%fe', 'a/b', '0'.repeat(5000), '😀'),
  );
  const path = fc.oneof(
    weirdId.map((id) => `/v1/sessions/${id}/cdp`),
    fc.constantFrom(
      '/',
      '//',
      '/v1/sessions',
      '/v1/sessions//cdp',
      '/devtools/browser',
      '/v/x/websockify',
      '*',
    ),
    fc.string({ maxLength: 200, unit: 'grapheme-ascii' }).map((s) => `/${s.replace(/[\s]/g, '')}`),
    fc.webPath(),
  );
  const query = fc.oneof(
    fc.constant('?token=TOKEN'),
    fc.constant(''),
    fc.constantFrom(
      '?token=',
      '?token',
      '?token=TOKEN&token=x',
      '?token=x&token=TOKEN',
      '?token=%',
      '?&&&==',
    ),
    fc.integer({ min: 1_000, max: 200_000 }).map((n) => `?token=TOKEN&pad=${'a'.repeat(n)}`),
    fc.string({ maxLength: 100, unit: 'grapheme-ascii' }).map((s) => `?token=${encodeURIComponent(s)}`),
  );
  const header = (valid: string, bad: string[]) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(valid) },
      fc.constant(undefined),
      fc.constantFrom(...bad),
      fc.string({ maxLength: 30, unit: 'grapheme-ascii' }).map((s) => s.replace(/[\r\n]/g, '')),
    );
  const headers = fc.record({
    Upgrade: header('websocket', ['', 'h2c', 'WebSocket, h2c', 'websocket\u0000']),
    Connection: header('Upgrade', ['', 'keep-alive', 'close', 'Upgrade, close']),
    'Sec-WebSocket-Key': header('dGhlIHNhbXBsZSBub25jZQ==', ['', 'abc', '====', 'x'.repeat(2000)]),
    'Sec-WebSocket-Version': header('13', ['', '8', '999', '-1', 'abc', '13, 8']),
    Authorization: fc.oneof(fc.constant(undefined), fc.constantFrom('Bearer ', 'Bearer x', 'Basic Og==')),
  });

  it('malformed upgrade requests get a clean 4xx or a closed socket, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(path, query, headers, async (p, q, h) => {
        const target = `${p.replace('SESSION', session.id)}${q.replace(/TOKEN/g, token)}`;
        const res = await rawRequest(stack.port, upgradeRequest(target, h), {
          idleMs: 1_500,
          headersOnly: true,
        });
        record(res.status);
        const what = `${target.slice(0, 120)} ${JSON.stringify(h)} -> ${res.text.slice(0, 160)}`;
        if (res.status !== undefined && res.status !== 101) {
          expect(res.status, what).toBeGreaterThanOrEqual(400);
          expect(res.status, what).toBeLessThan(500);
        }
        // A 101 is legitimate only for the genuine token on the session's own path.
        if (res.status === 101) expect(target, what).toContain(token);
      }),
      { numRuns: 400 },
    );
    await stillServesCdp();
  }, 300_000);

  it('garbage bytes and broken request lines get a 4xx or a closed socket', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 4096 }).map((b) => Buffer.from(b)),
          fc.string({ maxLength: 300, unit: 'binary' }).map((s) => Buffer.from(`${s}\r\n\r\n`)),
          fc
            .constantFrom('GET', 'POST', 'CONNECT', 'PRI', 'get', 'G\u0000T')
            .map((m) =>
              Buffer.from(upgradeRequest(`/v1/sessions/${session.id}/cdp?token=${token}`).replace(/^GET/, m)),
            ),
          fc.constant(Buffer.from(upgradeRequest('/v1/sessions/x/cdp').replace('HTTP/1.1', 'HTTP/0.9'))),
          fc.constant(Buffer.from(upgradeRequest('/v1/sessions/x/cdp').replace('HTTP/1.1', 'HTTP/2.0'))),
        ),
        async (bytes) => {
          const res = await rawRequest(stack.port, bytes, { idleMs: 500, headersOnly: true });
          record(res.status);
          if (res.status !== undefined && res.status !== 101) {
            expect(res.status, res.text.slice(0, 160)).toBeGreaterThanOrEqual(400);
            expect(res.status, res.text.slice(0, 160)).toBeLessThan(500);
          }
        },
      ),
      { numRuns: 300 },
    );
    await stillServesCdp();
  }, 300_000);

  it('slowloris: partial headers are cut after the headers timeout, and never block others', async () => {
    const valid = upgradeRequest(`/v1/sessions/${session.id}/cdp?token=${token}`);
    const sockets = Array.from({ length: 100 }, (_, i) => {
      const socket = net.connect(stack.port, '127.0.0.1');
      const partial = valid.slice(0, 20 + (i % (valid.length - 24)));
      let text = '';
      const ended = new Promise<string>((resolve) => {
        socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
        socket.on('close', () => resolve(text));
        socket.on('error', () => undefined);
      });
      socket.on('connect', () => socket.write(partial));
      // Trickle one more byte now and then, as slowloris does.
      const drip = setInterval(() => socket.writable && socket.write('X'), 2_000);
      return { socket, ended, drip };
    });
    // Meanwhile the proxy serves real clients without delay.
    const started = Date.now();
    await stillServesCdp();
    expect(Date.now() - started).toBeLessThan(5_000);
    const texts = await Promise.all(sockets.map((s) => s.ended));
    for (const s of sockets) clearInterval(s.drip);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(HEADERS_TIMEOUT_MS + 8_000);
    for (const text of texts) {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      record(status === undefined ? undefined : Number(status));
      if (status !== undefined) expect(['400', '408', '431']).toContain(status);
    }
    await stillServesCdp();
  }, 60_000);
});
