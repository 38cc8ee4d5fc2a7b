import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TestContext } from '../support/test-context.ts';
import { OpenApiContract } from '../support/openapi-contract.ts';

/**
 * Property: malformed bodies, headers, path ids and query strings thrown at every route of
 * /openapi.json always get a 4xx problem document (a 2xx only for reads), never a 5xx, and never
 * change a session, profile or key.
 */
/** A JSON object body could be a valid request ("{}" creates a session with all defaults). */
function parsesToObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

describe('fuzzing every route', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let apiKey: string;
  let doc: { paths: Record<string, Record<string, unknown>> };
  let contract: OpenApiContract;

  beforeAll(async () => {
    ctx = await TestContext.create({ env: { VENTUS_RATE_LIMIT_PER_MINUTE: '1000000' } });
    server = await ctx.startApi();
    apiKey = (await ctx.seedKey(['operator'])).apiKey;
    doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as typeof doc;
    contract = new OpenApiContract(doc as never);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  async function counts(): Promise<string> {
    const { rows } = await ctx.db.query(
      `SELECT (SELECT count(*) FROM sessions) AS s, (SELECT count(*) FROM api_keys) AS k,
              (SELECT count(*) FROM idempotency_keys) AS i,
              (SELECT coalesce(string_agg(id || status, ',' ORDER BY id), '') FROM sessions) AS st`,
    );
    const extra = await ctx.db
      .query(`SELECT (SELECT count(*) FROM profiles) AS p, (SELECT count(*) FROM members) AS m`)
      .then((r) => r.rows[0] as unknown)
      .catch(() => ({}));
    return JSON.stringify([rows[0], extra]);
  }

  const weirdId = fc.oneof(
    fc.constant('01JC1AMQX4N3PWV9MR2BCKDH7E'),
    fc.string({ minLength: 1, maxLength: 40 }).map((s) => encodeURIComponent(s)),
    fc.constantFrom(
      '..',
      '%00',
      'null',
      '-1',
      '0'.repeat(300),
      '%C0%80',
      '%ED%A0%80',
      '%',
      '%zz',
      '😀',
      'Ｏ１Ｊ',
    ),
    // Unicode ids: full-width digits, RTL marks, combining characters, astral planes.
    fc.string({ minLength: 1, maxLength: 30, unit: 'grapheme' }).map((s) => encodeURIComponent(s)),
  );
  // Objects with at least one key no schema knows: invalid for every body schema.
  const badObject = fc
    .tuple(
      fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
      fc.string({ minLength: 1, maxLength: 10 }),
    )
    .map(([obj, k]) => ({ ...obj, [`zz_unknown_${k}`]: 1 }));
  // Never empty: an empty body means "all defaults", which is a valid create.
  const body = fc.oneof(
    badObject.map((o) => JSON.stringify(o)),
    fc.string({ minLength: 1, maxLength: 60 }).filter((s) => s.trim() !== '' && !parsesToObject(s)),
    fc.constantFrom(
      '{',
      '[]',
      'null',
      '1',
      '"x"',
      '{"status":"RUNNING"}',
      '{"extend_seconds":0}',
      '{"timeout_seconds":1e309}',
    ),
    fc
      .jsonValue({ maxDepth: 4 })
      .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
      .map((v) => JSON.stringify(v)),
  );
  const header = fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 20 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
  );
  const query = fc.oneof(
    fc.constant(''),
    fc
      .dictionary(
        fc.constantFrom('limit', 'cursor', 'status', 'label', 'x', 'target', 'action'),
        fc.string({ maxLength: 12 }),
        { maxKeys: 3 },
      )
      .map((q) => `?${new URLSearchParams(q).toString()}`),
    // Unicode, NUL and raw (unencoded) bytes in values, repeated keys, malformed escapes.
    fc
      .array(
        fc.tuple(
          fc.constantFrom('limit', 'cursor', 'status', 'label', 'target_id', 'actor', 'action', 'token'),
          fc.oneof(
            fc.string({ maxLength: 20, unit: 'grapheme' }).map((v) => encodeURIComponent(v)),
            fc.constantFrom('%00', '%', '%E0%A4%A', '%ED%A0%80', '-1', '1e9', '1.5', '0x10', '[]', 'a=b=c'),
          ),
        ),
        { maxLength: 6 },
      )
      .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
    // Huge query strings (under Node's 16 KiB header limit, so they reach the router).
    fc.integer({ min: 1_000, max: 14_000 }).map((n) => `?cursor=${'A'.repeat(n)}`),
  );
  const contentType = fc.constantFrom(
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    undefined,
  );

  it('never answers 5xx, always a documented problem document, and changes nothing', async () => {
    const before = await counts();
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => ['get', 'post', 'patch', 'delete', 'put'].includes(m))
        .map((method) => ({ path, method: method.toUpperCase() })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(6);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...operations),
        weirdId,
        body,
        query,
        contentType,
        header,
        header,
        async (op, id, rawBody, q, type, idem, reason) => {
          const url = `${server.url}${op.path.replace(/\{\w+\}/g, id)}${q}`;
          const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
          if (type) headers['content-type'] = type;
          if (idem !== undefined) headers['idempotency-key'] = idem;
          if (reason !== undefined) headers['x-reason'] = reason;
          const sendsBody = op.method !== 'GET' && op.method !== 'DELETE';
          const res = await fetch(url, { method: op.method, headers, body: sendsBody ? rawBody : undefined });
          const text = await res.text();
          expect(res.status, `${op.method} ${url} -> ${res.status} ${text}`).toBeLessThan(500);
          const isRead = op.method === 'GET';
          if (!isRead)
            expect(res.status, `${op.method} ${url} body=${rawBody} -> ${text}`).toBeGreaterThanOrEqual(400);
          if (res.status >= 400) {
            expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
            const problems = contract.check(op.method, res.url, res.status, res.headers, JSON.parse(text));
            expect(problems, problems.join('\n')).toEqual([]);
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(await counts()).toBe(before);
  });

  it('a query string over the header limit is refused by the HTTP layer (431 or 414), never a 5xx', async () => {
    for (const n of [20_000, 100_000, 1_000_000]) {
      const res = await fetch(`${server.url}/v1/sessions?cursor=${'A'.repeat(n)}`, {
        headers: { authorization: `Bearer ${apiKey}` },
      }).catch(() => undefined);
      // undefined: the server closed the socket while the client was still sending.
      if (res) expect([414, 431]).toContain(res.status);
    }
    const after = await fetch(`${server.url}/v1/sessions`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(after.status).toBe(200);
  });
});
