import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';

describe('sessions API: create, idempotency, admission, release', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let api: ApiClient;

  beforeAll(async () => {
    // Room for every session these tests create (without workers, a released one keeps its slot).
    ctx = await TestContext.create({ maxTotal: 10 });
    server = await ctx.startApi();
    api = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('creates a QUEUED session with every response field, and replays it for the same key', async () => {
    const key = randomUUID();
    const first = await api.createSession({ labels: { tenant_dept: 'rcm' }, timeout_seconds: 600 }, key);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      status: 'QUEUED',
      region: 'us-east1',
      runtime_kind: 'chromium',
      timeout_seconds: 600,
      keep_alive_seconds: 0,
      labels: { tenant_dept: 'rcm' },
      released_at: null,
      release_reason: null,
    });
    expect(first.body.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(first.body.connect_url).toMatch(
      new RegExp(`^ws://127\\.0\\.0\\.1:\\d+/v1/sessions/${first.body.id}/cdp\\?token=`),
    );
    expect(typeof first.body.live_view_url).toBe('string');
    expect(Date.parse(first.body.expires_at) - Date.parse(first.body.created_at)).toBeCloseTo(600_000, -3);

    const replay = await api.createSession({ region: 'us-east1', timeout_seconds: 900 }, key);
    expect(replay.status).toBe(200);
    expect(replay.body.id).toBe(first.body.id);
    expect(replay.body.timeout_seconds).toBe(600);
    expect(replay.body.connect_url).toBe(first.body.connect_url);
    await api.release(first.body.id);
  });

  it('concurrent duplicates with one key create exactly one session', async () => {
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 12 }, () => api.createSession({}, key)));
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(11);
    const { rows } = await ctx.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM idempotency_keys WHERE key = $1',
      [key],
    );
    expect(rows[0]!.n).toBe(1);
    await api.release([...ids][0]!);
  });

  it('a key is per workspace: the same key in another workspace creates a new session', async () => {
    const key = randomUUID();
    const other = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
    const a = await api.createSession({}, key);
    const b = await other.createSession({}, key);
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(a.body.id).not.toBe(b.body.id);
    // ...and each workspace sees only its own session.
    expect((await other.getSession(a.body.id)).status).toBe(404);
    expect((await other.release(a.body.id)).status).toBe(404);
    // The other workspace's release left the session as it was.
    expect((await api.getSession(a.body.id)).body.status).toBe('QUEUED');
    const moves = await ctx.db.query('SELECT 1 FROM session_transitions WHERE session_id = $1', [a.body.id]);
    expect(moves.rowCount).toBe(1);
    await api.release(a.body.id);
    await other.release(b.body.id);
  });

  it('releases via PATCH REQUEST_RELEASE: COMPLETED, released_at, client_release; again is harmless', async () => {
    const created = await api.createSession();
    const released = await api.release(created.body.id);
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({
      id: created.body.id,
      status: 'COMPLETED',
      release_reason: 'client_release',
    });
    expect(Date.parse(released.body.released_at!)).not.toBeNaN();
    const again = await api.release(created.body.id);
    expect(again.status).toBe(200);
    expect(again.body.released_at).toBe(released.body.released_at);
    const transitions = await ctx.db.query<{ from_status: string | null; to_status: string }>(
      'SELECT from_status, to_status FROM session_transitions WHERE session_id = $1 ORDER BY id',
      [created.body.id],
    );
    expect(transitions.rows).toEqual([
      { from_status: null, to_status: 'QUEUED' },
      { from_status: 'QUEUED', to_status: 'COMPLETED' },
    ]);
    const audit = await ctx.db.query<{ action: string; class: string }>(
      'SELECT action, class FROM audit_log WHERE target_id = $1 ORDER BY id',
      [created.body.id],
    );
    expect(audit.rows).toEqual([
      { action: 'session.create', class: 'tenant' },
      { action: 'session.completed', class: 'tenant' },
    ]);
  });

  it('transitions and audit rows are append-only', async () => {
    await expect(ctx.db.query("UPDATE session_transitions SET to_status = 'RUNNING'")).rejects.toThrow(
      /append-only/,
    );
    await expect(ctx.db.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
  });

  it('releasing a session that is not there is a 404; one that ended otherwise is a 409', async () => {
    expect((await api.release('01J00000000000000000000000')).status).toBe(404);
    expect((await api.release('not-a-session')).status).toBe(404);
    const created = await api.createSession();
    expect(created.status).toBe(202);
    await ctx.db.query(
      "UPDATE sessions SET status = 'EXPIRED', release_reason = 'timeout', released_at = now() WHERE id = $1",
      [created.body.id],
    );
    const conflict = await api.release(created.body.id);
    expect(conflict.status).toBe(409);
    expect((await api.getSession(created.body.id)).body.status).toBe('EXPIRED');
  });
});

describe('admission against max_total', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 5 });
    server = await ctx.startApi();
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('50 concurrent creates against max_total 5 admit exactly 5; the rest get 503 with Retry-After', async () => {
    const api = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
    const results = await Promise.all(Array.from({ length: 50 }, () => api.createSession()));
    const admitted = results.filter((r) => r.status === 202);
    const refused = results.filter((r) => r.status === 503);
    expect(admitted).toHaveLength(5);
    expect(refused).toHaveLength(45);
    for (const r of refused) {
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.body).toMatchObject({
        type: expect.stringMatching(/\/errors\/insufficient-capacity$/) as string,
        title: 'Insufficient capacity',
        status: 503,
        instance: '/v1/sessions',
      });
      expect(String(r.body.detail)).toMatch(
        /^No agents in region us-east1 had spare capacity at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\./,
      );
      const retryAfter = Number(r.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    }
    const { rows } = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions');
    expect(rows[0]!.n).toBe(5);
    expect(await server.services.poolSlots.activeCount('us-east1-chromium')).toBe(5);
  });
});
