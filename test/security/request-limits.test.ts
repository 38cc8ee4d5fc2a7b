/**
 * Request smuggling and body limits, over raw sockets where a client library would refuse to send
 * the request: conflicting Content-Length / Transfer-Encoding (400, and the smuggled second request
 * is never answered), oversized bodies (413 problem), deep JSON (400 problem), wrong content types
 * (415 problem). Never a 5xx, nothing created, and the server keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { rawRequest } from '../support/raw-http.ts';

describe('request smuggling, body limits, deep JSON, content types', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let port: number;
  let apiKey: string;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 20, env: { VENTUS_RATE_LIMIT_PER_MINUTE: '1000000' } });
    server = await ctx.startApi();
    port = Number(new URL(server.url).port);
    apiKey = (await ctx.seedKey(['operator'])).apiKey;
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  const sessionCount = async () =>
    (await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions')).rows[0]!.n;
  const head = (extra: string) =>
    `POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${apiKey}\r\nIdempotency-Key: k-${Math.random()}\r\n${extra}`;
  const smuggledRequest = () => `GET /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${apiKey}\r\n\r\n`;

  it('conflicting or malformed framing is a 400 and the socket closes before a smuggled request', async () => {
    const cases = [
      // CL.TE: the front end reads 4 bytes by Content-Length, we would read chunks.
      `${head('Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n')}2\r\n{}\r\n0\r\n\r\n${smuggledRequest()}`,
      // TE.CL, the other order.
      `${head('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 60\r\n\r\n')}2\r\n{}\r\n0\r\n\r\n${smuggledRequest()}`,
      // Two different Content-Lengths.
      `${head('Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n')}{}${smuggledRequest()}`,
      // Obfuscated Transfer-Encoding values.
      `${head('Content-Type: application/json\r\nTransfer-Encoding: xchunked\r\nContent-Length: 2\r\n\r\n')}{}`,
      `${head('Content-Type: application/json\r\nTransfer-Encoding : chunked\r\n\r\n')}2\r\n{}\r\n0\r\n\r\n`,
      `${head('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n')}2\r\n{}\r\n0\r\n\r\n${smuggledRequest()}`,
      // Line folding (obs-fold) and a bare LF inside a header.
      `${head('Content-Type: application/json\r\nContent-Length:\r\n 2\r\n\r\n')}{}`,
      // Bad chunk sizes.
      `${head('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n')}zz\r\n{}\r\n0\r\n\r\n`,
      `${head('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n')}-2\r\n{}\r\n0\r\n\r\n`,
      `${head('Content-Type: application/json\r\nContent-Length: -1\r\n\r\n')}{}`,
      `${head('Content-Type: application/json\r\nContent-Length: 1e3\r\n\r\n')}{}`,
    ];
    const before = await sessionCount();
    for (const request of cases) {
      const res = await rawRequest(port, request);
      expect(res.status, `${JSON.stringify(request.slice(0, 200))} -> ${res.text.slice(0, 200)}`).toBe(400);
      // One response only: the keys list (the smuggled request) was never answered.
      expect(res.text.match(/HTTP\/1\.1 /g)?.length ?? 0).toBe(1);
      expect(res.text).not.toContain('"items"');
    }
    expect(await sessionCount()).toBe(before);
  });

  it('a body over the limit is a 413 problem, with or without Content-Length', async () => {
    const big = JSON.stringify({ labels: { a: 'x'.repeat(6 * 1024 * 1024) } });
    const withLength = await fetch(`${server.url}/v1/sessions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
        'idempotency-key': 'big-1',
      },
      body: big,
    });
    expect(withLength.status).toBe(413);
    expect(withLength.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const chunk = Buffer.alloc(1024 * 1024, 'a').toString();
    const chunked = await rawRequest(port, [
      head('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'),
      ...Array.from({ length: 7 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`),
      '0\r\n\r\n',
    ]);
    expect(chunked.status, chunked.text.slice(0, 200)).toBe(413);
    // A Content-Length that announces more than the limit is refused before any body arrives.
    const announced = await rawRequest(
      port,
      head('Content-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{'),
    );
    expect(announced.status, announced.text.slice(0, 200)).toBe(413);
    expect(announced.text).toMatch(/application\/problem\+json/);
  });

  it('deep JSON (10k and 100k levels) is a 400 problem, never a stack overflow', async () => {
    for (const depth of [10_000, 100_000]) {
      for (const [open, close] of [
        ['[', ']'],
        ['{"a":', '}'],
      ]) {
        for (const wrap of [(s: string) => s, (s: string) => `{"labels":{"k":${s}}}`]) {
          const body = wrap(`${open!.repeat(depth)}1${close!.repeat(depth)}`);
          const res = await fetch(`${server.url}/v1/sessions`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${apiKey}`,
              'content-type': 'application/json',
              'idempotency-key': `deep-${Math.random()}`,
            },
            body,
          });
          expect(res.status, `${depth} ${open} -> ${await res.clone().text()}`).toBe(400);
          expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        }
      }
    }
    expect(
      (await fetch(`${server.url}/v1/sessions`, { headers: { authorization: `Bearer ${apiKey}` } })).status,
    ).toBe(200);
  });

  it('a wrong content type is a 415 problem on every route that takes a body', async () => {
    const routes: [string, string][] = [
      ['POST', '/v1/sessions'],
      ['POST', '/v1/keys'],
      ['POST', '/v1/profiles'],
      ['POST', '/v1/members'],
      ['PATCH', '/v1/pools/us-east1-chromium'],
    ];
    const types = [
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      'json',
      'application/json-patch+json',
      '*/*',
    ];
    for (const [method, path] of routes) {
      for (const type of types) {
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${apiKey}`,
            'content-type': type,
            'idempotency-key': `ct-${Math.random()}`,
          },
          body: '{}',
        });
        expect(res.status, `${method} ${path} as ${type} -> ${await res.clone().text()}`).toBe(415);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }
    }
  });
});
