/**
 * Header injection through `X-Reason` (admin force-stop) and session labels: CR, LF and other
 * control characters are refused (400 problem) by the HTTP parser or the route, an overlong reason is
 * refused, nothing a client sends is reflected into a response header, and what is stored (the audit
 * row, the labels) is exactly what was accepted, JSON-escaped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { rawRequest } from '../support/raw-http.ts';

describe('header injection: X-Reason and labels', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let port: number;
  let operatorKey: string;
  let api: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 40, env: { VENTUS_RATE_LIMIT_PER_MINUTE: '1000000' } });
    server = await ctx.startApi();
    port = Number(new URL(server.url).port);
    operatorKey = (await ctx.seedKey(['operator'])).apiKey;
    api = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  const auditRows = async (sessionId: string) =>
    (
      await ctx.db.query<{ action: string; detail: Record<string, unknown> }>(
        `SELECT action, detail FROM audit_log WHERE target_id = $1 AND action <> 'session.create' ORDER BY id`,
        [sessionId],
      )
    ).rows;

  /** Raw force-stop: the reason's bytes go on the wire exactly as given. */
  const forceStop = (id: string, reason: Buffer) =>
    rawRequest(
      port,
      Buffer.concat([
        Buffer.from(
          `DELETE /v1/sessions/${id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${operatorKey}\r\nConnection: close\r\nX-Reason: `,
        ),
        reason,
        Buffer.from('\r\n\r\n'),
      ]),
    );

  /** Response header lines (status line excluded). */
  const headerLines = (text: string) => text.split('\r\n\r\n')[0]!.split('\r\n').slice(1);

  it('refuses control characters and overlong reasons, storing nothing; never reflects them', async () => {
    const { body: session } = await api.createSession();
    const bad = [
      'stop it now\rX-Injected: yes',
      'stop it now\nX-Injected: yes',
      'stop it now\r\n X-Injected: yes', // obs-fold: a continuation line
      'stop it now\u0000really',
      'stop it now\u0001',
      'stop it now\u001b[31mred',
      'stop it now\u007f',
      'stop it now\u000bvt',
      'x'.repeat(501),
      'x'.repeat(10 * 1024),
      'short',
      '        ',
    ];
    for (const reason of bad) {
      const res = await forceStop(session.id, Buffer.from(reason, 'latin1'));
      expect([400, 431], `${JSON.stringify(reason.slice(0, 40))} -> ${res.text.slice(0, 200)}`).toContain(
        res.status,
      );
      for (const line of headerLines(res.text))
        expect(line.toLowerCase()).not.toMatch(/x-injected|stop it now/);
    }
    expect(await auditRows(session.id)).toEqual([]);
    expect((await api.getSession(session.id)).body.status).toBe('QUEUED');
    // A reason over the header limit is refused by the parser itself.
    const huge = await forceStop(session.id, Buffer.alloc(100 * 1024, 'r'));
    expect(huge.status).toBe(431);
  });

  it('a good reason (quotes, non-ASCII bytes) is stored exactly once and reflected nowhere', async () => {
    const { body: session } = await api.createSession();
    const reason = 'ticket #42: "abuse" and <script>alert(1)</script> ${jndi:x} Ünïcödé';
    const res = await forceStop(session.id, Buffer.from(reason, 'utf8'));
    expect(res.status, res.text.slice(0, 300)).toBe(204);
    for (const line of headerLines(res.text)) expect(line).not.toMatch(/ticket|script|jndi/);
    const rows = await auditRows(session.id);
    expect(rows).toHaveLength(1);
    // Node reads header bytes as Latin-1; the stored reason is those characters, trimmed, as JSON.
    expect(rows[0]!.detail.x_reason).toBe(Buffer.from(reason, 'utf8').toString('latin1'));
  });

  it('labels with CR, LF and control characters are stored verbatim, JSON-escaped, never in headers', async () => {
    const values = [
      'a\r\nSet-Cookie: x=1',
      'b\u0001c',
      '\u001b[2J',
      'd\u2028e',
      '<img src=x onerror=alert(1)>',
    ];
    const labels = Object.fromEntries(values.map((v, i) => [`k${i}`, v]));
    const created = await api.createSession({ labels });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    expect(created.headers.get('set-cookie')).toBeNull();
    created.headers.forEach((value, name) => expect(`${name}: ${value}`).not.toMatch(/x=1|onerror/));
    expect((await api.getSession(created.body.id)).body.labels).toEqual(labels);
    const { rows } = await ctx.db.query<{ labels: Record<string, string> }>(
      'SELECT labels FROM sessions WHERE id = $1',
      [created.body.id],
    );
    expect(rows[0]!.labels).toEqual(labels);
    // NUL and unpaired surrogates cannot be stored by Postgres: a 400 (it was a 500), anywhere in the body.
    for (const body of [
      { labels: { k: 'b\u0000c' } },
      { labels: { k: '\ud800' } },
      { user_agent: 'ua\u0000' },
      { region: 'us-east1\u0000' },
      { proxy: { url: 'http://203.0.113.1:3128', username: '\udfff' } },
      { storage_state: { cookies: [{ name: 'n', value: '\u0000' }] } },
    ]) {
      const res = await api.createSession(body);
      expect(res.status, `${JSON.stringify(body)} -> ${JSON.stringify(res.body)}`).toBe(400);
    }
    // Label keys are free-form but printable and bounded: CR/LF or control characters in a key, an
    // empty key or one over 128 characters are a 400.
    for (const key of ['a\r\nb', 'a\u0000', 'a\u001b[31m', '', 'x'.repeat(129)]) {
      const res = await api.createSession({ labels: { [key]: 'v' } });
      expect(res.status, JSON.stringify(key)).toBe(400);
    }
    // ...and such a key could not carry an unchecked value past the schema (it could, before).
    expect((await api.createSession({ labels: { 'bad\nkey': { nested: 'x'.repeat(10_000) } } })).status).toBe(
      400,
    );
    // A label filter with CR/LF is a harmless query value, not a header.
    const list = await fetch(
      `${server.url}/v1/sessions?label=${encodeURIComponent('k0=a\r\nSet-Cookie: x=1')}`,
      {
        headers: { authorization: `Bearer ${api.apiKey}` },
      },
    );
    expect(list.status).toBeLessThan(500);
    expect(list.headers.get('set-cookie')).toBeNull();
  });
});
