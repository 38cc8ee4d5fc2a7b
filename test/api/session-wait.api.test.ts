/**
 * GET /v1/sessions/{id}?wait_seconds=N: one request instead of polling until RUNNING. The broker holds
 * the answer while the session is QUEUED or PROVISIONING and answers the moment it is announced RUNNING
 * or ended (Redis pub/sub, real Redis), or after N seconds with its state then.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionWaiters } from '../../broker/session-waiters.ts';
import { ApiClient, type SessionBody } from '../support/api-client.ts';
import { TestContext } from '../support/test-context.ts';

/** Whether `promise` settles within `ms` (used only where the answer is "no", a long way off). */
const settlesWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);

describe('GET /v1/sessions/{id}?wait_seconds (broker only: sessions stay QUEUED)', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let api: ApiClient;
  const waitFor = (id: string, seconds: number | string) =>
    api.request<SessionBody>('GET', `/v1/sessions/${id}?wait_seconds=${seconds}`);

  beforeAll(async () => {
    // Room for every session created here (without workers, a released one keeps its slot).
    ctx = await TestContext.create({ maxTotal: 40 });
    server = await ctx.startApi();
    api = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('a wait that runs out answers 200 with the state then', async () => {
    const { body } = await api.createSession();
    const waited = await waitFor(body.id, 1);
    expect(waited.status).toBe(200);
    expect(waited.body).toMatchObject({ id: body.id, status: 'QUEUED' });
    await api.release(body.id);
  });

  it('a waiting GET answers with the ended session when it is released meanwhile', async () => {
    const { body } = await api.createSession();
    const waiting = waitFor(body.id, 30);
    await sleep(300);
    expect((await api.release(body.id)).body.status).toBe('COMPLETED');
    const waited = await waiting;
    expect(waited.status).toBe(200);
    expect(waited.body).toMatchObject({ id: body.id, status: 'COMPLETED', release_reason: 'client_release' });
  });

  it('a session that is not starting is answered at once, whatever the wait', async () => {
    const { body } = await api.createSession();
    await api.release(body.id);
    const waited = await waitFor(body.id, 60);
    expect(waited.body.status).toBe('COMPLETED');
  });

  it.each(['61', '-1', 'soon', '1.5'])('wait_seconds=%s is a 400 validation-error', async (value) => {
    const { body } = await api.createSession();
    const res = await api.request<{ type: string; status: number }>(
      'GET',
      `/v1/sessions/${body.id}?wait_seconds=${value}`,
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toMatch(/validation-error$/);
    await api.release(body.id);
  });

  describe('POST /v1/sessions with Prefer: wait=N (create and wait in one request)', () => {
    const createWaiting = (prefer: string, key: string = randomUUID()) =>
      api.request<SessionBody>('POST', '/v1/sessions', {
        body: {},
        headers: { 'idempotency-key': key, prefer },
      });

    it('a wait that runs out answers 202 with the state then, and says it waited', async () => {
      const created = await createWaiting('wait=1');
      expect(created.status).toBe(202);
      expect(created.headers.get('preference-applied')).toBe('wait=1');
      expect(created.body.status).toBe('QUEUED');
      // The session was committed before the wait: it is there for everyone meanwhile.
      expect((await api.getSession(created.body.id)).body.status).toBe('QUEUED');
      await api.release(created.body.id);
    });

    it('answers with the ended session when it is released meanwhile', async () => {
      const key = randomUUID();
      const waiting = createWaiting('wait=30', key);
      let id: string | undefined;
      while (!id) {
        await sleep(50);
        const { rows } = await ctx.db.query<{ session_id: string }>(
          'SELECT session_id FROM idempotency_keys WHERE key = $1',
          [key],
        );
        id = rows[0]?.session_id;
      }
      expect((await api.release(id)).body.status).toBe('COMPLETED');
      const created = await waiting;
      expect(created.status).toBe(202);
      expect(created.body).toMatchObject({ id, status: 'COMPLETED', release_reason: 'client_release' });
    });

    it('a replay waits too, and answers 200', async () => {
      const key = randomUUID();
      const first = await createWaiting('wait=1', key);
      const again = await createWaiting('respond-async, wait=1', key);
      expect(again.status).toBe(200);
      expect(again.headers.get('preference-applied')).toBe('wait=1');
      expect(again.body).toMatchObject({ id: first.body.id, status: 'QUEUED' });
      await api.release(first.body.id);
    });

    it('a wait over 60 s is held to 60', async () => {
      const key = randomUUID();
      const waiting = createWaiting('wait=600', key);
      await sleep(300);
      const { rows } = await ctx.db.query<{ session_id: string }>(
        'SELECT session_id FROM idempotency_keys WHERE key = $1',
        [key],
      );
      await api.release(rows[0]!.session_id);
      expect((await waiting).headers.get('preference-applied')).toBe('wait=60');
    });

    it.each(['wait=0', 'wait=soon', 'wait', 'respond-async', 'wait=-1'])(
      'Prefer: %s is ignored: the answer comes at once, without Preference-Applied',
      async (prefer) => {
        const created = await createWaiting(prefer);
        expect(created.status).toBe(202);
        expect(created.headers.get('preference-applied')).toBeNull();
        expect(created.body.status).toBe('QUEUED');
        await api.release(created.body.id);
      },
    );
  });

  it("another workspace's session is a 404, also when waiting", async () => {
    const { body } = await api.createSession();
    const other = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
    const res = await other.request('GET', `/v1/sessions/${body.id}?wait_seconds=5`);
    expect(res.status).toBe(404);
    await api.release(body.id);
  });

  describe('the waiters: woken by the announcement, not by the re-check', () => {
    // A re-check interval of a minute: only the Redis announcement can wake a waiter within the test.
    let waiters: SessionWaiters;
    beforeAll(async () => {
      waiters = new SessionWaiters(
        server.services.sessionRoutes,
        () => server.services.duplicateRedis(),
        60_000,
      );
      await waiters.ready();
    });

    it('RUNNING wakes the waiters of that session only', async () => {
      const gone = new AbortController();
      const mine = waiters.next('session-a', 60_000, gone.signal);
      const other = waiters.next('session-b', 60_000, gone.signal);
      await server.services.sessionRoutes.announceRunning('session-a');
      await mine;
      expect(await settlesWithin(other, 500)).toBe(false);
      gone.abort(); // the client went away: its wait ends
      await other;
    });

    it('an ended session wakes its waiters', async () => {
      const waiting = waiters.next('session-c', 60_000, new AbortController().signal);
      await server.services.sessionRoutes.end('session-c');
      await waiting;
    });
  });
});

describe('GET /v1/sessions/{id}?wait_seconds (whole service, simulated pods)', () => {
  let ctx: TestContext;
  let stack: Awaited<ReturnType<TestContext['startStack']>>;
  let api: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({
      minReady: 0,
      maxTotal: 3,
      env: { VENTUS_DRIVER: 'sim', VENTUS_SIM_READY_MS: '1500' },
    });
    stack = await ctx.startStack();
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
  });

  it('with Prefer: wait, the create itself answers RUNNING, ready to connect', async () => {
    const created = await api.request<SessionBody>('POST', '/v1/sessions', {
      body: {},
      headers: { 'idempotency-key': randomUUID(), prefer: 'wait=30' },
    });
    expect(created.status).toBe(202);
    expect(created.headers.get('preference-applied')).toBe('wait=30');
    expect(created.body.status).toBe('RUNNING');
    expect(created.body.connect_url).toMatch(/^wss?:\/\//);
    await api.release(created.body.id);
  });

  it('a cold start is learnt RUNNING in one request', async () => {
    const created = await api.createSession();
    expect(created.body.status).toBe('QUEUED');
    const waited = await api.request<SessionBody>('GET', `/v1/sessions/${created.body.id}?wait_seconds=30`);
    expect(waited.status).toBe(200);
    expect(waited.body).toMatchObject({ id: created.body.id, status: 'RUNNING' });
    await api.release(created.body.id);
  });
});
