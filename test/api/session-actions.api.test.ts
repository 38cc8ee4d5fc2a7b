import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient, type SessionBody } from '../support/api-client.ts';

interface Page {
  items: SessionBody[];
  next_cursor: string | null;
  has_more: boolean;
}

describe('session list, force-stop, keep-alive and transitions', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let api: ApiClient;
  let operator: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 200 });
    server = await ctx.startApi();
    api = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
    operator = new ApiClient(server.url, (await ctx.seedKey(['operator'])).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('paginates by id with opaque cursors, stable while sessions are inserted concurrently', async () => {
    const created: string[] = [];
    for (let i = 0; i < 25; i++)
      created.push((await api.createSession({ labels: { batch: 'a', n: String(i) } })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=7&label=batch:a${cursor ? `&cursor=${cursor}` : ''}`;
      const [page] = await Promise.all([
        api.request<Page>('GET', `/v1/sessions${query}`),
        // Inserts racing the walk: they sort after everything seen so far and carry another label.
        api.createSession({ labels: { batch: 'b' } }),
      ]);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.body.items.map((s) => s.id));
      cursor = page.body.next_cursor;
      expect(page.body.has_more).toBe(cursor !== null);
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen).toEqual(created);
    expect(new Set(seen).size).toBe(25);
  });

  it('filters by status and refuses a bad limit or cursor with 400', async () => {
    const s = await api.createSession();
    await api.release(s.body.id);
    const completed = await api.request<Page>('GET', '/v1/sessions?status=COMPLETED&limit=100');
    expect(completed.body.items.map((x) => x.id)).toContain(s.body.id);
    expect(completed.body.items.every((x) => x.status === 'COMPLETED')).toBe(true);
    expect((await api.request('GET', '/v1/sessions?limit=0')).status).toBe(400);
    expect((await api.request('GET', '/v1/sessions?limit=101')).status).toBe(400);
    expect((await api.request('GET', '/v1/sessions?cursor=nonsense')).status).toBe(400);
    expect((await api.request('GET', '/v1/sessions?status=DONE')).status).toBe(400);
  });

  it('keep-alive rolls expires_at forward by extend_seconds (default 600) and bounds the value', async () => {
    const s = await api.createSession();
    const before = Date.parse(s.body.expires_at);
    const a = await api.request<SessionBody>('POST', `/v1/sessions/${s.body.id}:keepalive`, {
      body: { extend_seconds: 30 },
    });
    expect(a.status).toBe(200);
    expect(Date.parse(a.body.expires_at) - before).toBe(30_000);
    const b = await api.request<SessionBody>('POST', `/v1/sessions/${s.body.id}:keepalive`);
    expect(Date.parse(b.body.expires_at) - before).toBe(630_000);
    expect(
      (await api.request('POST', `/v1/sessions/${s.body.id}:keepalive`, { body: { extend_seconds: 0 } }))
        .status,
    ).toBe(400);
    expect(
      (await api.request('POST', `/v1/sessions/${s.body.id}:keepalive`, { body: { extend_seconds: 86401 } }))
        .status,
    ).toBe(400);
    await api.release(s.body.id);
    expect((await api.request('POST', `/v1/sessions/${s.body.id}:keepalive`)).status).toBe(409);
  });

  it('force-stop needs the operator scope and an X-Reason of 8+ characters; it is audited as admin', async () => {
    const s = await api.createSession();
    const path = `/v1/sessions/${s.body.id}`;
    expect(
      (await api.request('DELETE', path, { headers: { 'x-reason': 'tenant tries to force' } })).status,
    ).toBe(403);
    expect((await operator.request('DELETE', path)).status).toBe(400);
    expect((await operator.request('DELETE', path, { headers: { 'x-reason': 'short' } })).status).toBe(400);
    expect((await api.getSession(s.body.id)).body.status).toBe('QUEUED');
    const stopped = await operator.request('DELETE', path, { headers: { 'x-reason': 'abuse report #4411' } });
    expect(stopped.status).toBe(204);
    const after = await api.getSession(s.body.id);
    expect(after.body).toMatchObject({ status: 'COMPLETED', release_reason: 'admin_terminated' });
    const { rows } = await ctx.db.query<{ class: string; action: string; detail: Record<string, string> }>(
      "SELECT class, action, detail FROM audit_log WHERE target_id = $1 AND class = 'admin'",
      [s.body.id],
    );
    expect(rows).toEqual([
      {
        class: 'admin',
        action: 'session.completed',
        detail: {
          from: 'QUEUED',
          to: 'COMPLETED',
          reason: 'admin_terminated',
          x_reason: 'abuse report #4411',
        },
      },
    ]);
    expect(
      (
        await operator.request('DELETE', '/v1/sessions/01JC1AMQX4N3PWV9MR2BCKDH7E', {
          headers: { 'x-reason': 'no such session' },
        })
      ).status,
    ).toBe(404);
  });

  it('returns the append-only transition history; another workspace gets 404', async () => {
    const s = await api.createSession();
    await api.release(s.body.id);
    const t = await api.request<{ items: { from: string | null; to: string; reason: string | null }[] }>(
      'GET',
      `/v1/sessions/${s.body.id}/transitions`,
    );
    expect(t.status).toBe(200);
    expect(t.body.items.map((x) => [x.from, x.to, x.reason])).toEqual([
      [null, 'QUEUED', null],
      ['QUEUED', 'COMPLETED', 'client_release'],
    ]);
    const other = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
    expect((await other.request('GET', `/v1/sessions/${s.body.id}/transitions`)).status).toBe(404);
    expect((await other.request('POST', `/v1/sessions/${s.body.id}:keepalive`)).status).toBe(404);
    const readOnly = new ApiClient(server.url, (await ctx.seedKey(['sessions:read'])).apiKey);
    expect((await readOnly.createSession()).status).toBe(403);
    expect((await readOnly.release(s.body.id)).status).toBe(403);
  });
});
