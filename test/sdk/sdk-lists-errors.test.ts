/** The SDK's list iteration and typed problem errors, against the broker alone (sessions stay QUEUED). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProblem, VentusClient, VentusProblemError } from '../../sdk/src/index.ts';
import { TestContext } from '../support/test-context.ts';

describe('SDK lists and problem errors', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let client: VentusClient;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 30 });
    server = await ctx.startApi();
    client = new VentusClient({ baseUrl: server.url, apiKey: (await ctx.seedKey()).apiKey });
  });

  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('list iteration visits every session once while sessions are being created', async () => {
    const before: string[] = [];
    for (let i = 0; i < 10; i++) before.push((await client.createSession({ labels: { batch: 'list' } })).id);
    const during: Promise<string>[] = [];
    const seen: string[] = [];
    for await (const s of client.listSessions({ limit: 3, label: 'batch:list' })) {
      seen.push(s.id);
      // Two creates per page, racing the iteration; the first page's are committed before the next
      // page is asked for, so at least those must be seen however busy the machine is.
      if (seen.length % 3 === 1) {
        const creates = [0, 1].map(() =>
          client.createSession({ labels: { batch: 'list' } }).then((c) => c.id),
        );
        during.push(...creates);
        if (seen.length === 1) await Promise.all(creates);
      }
    }
    const inserted = await Promise.all(during);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(before));
    for (const id of seen) expect([...before, ...inserted]).toContain(id);
    // The list is oldest first, so inserts land on pages still to come.
    expect(seen).toEqual(expect.arrayContaining(inserted.slice(0, 2)));
  });

  it('generic list() over another paginated path', async () => {
    const first = await client.list('/v1/sessions', { status: 'QUEUED', limit: 100 }).next();
    expect(first.done).toBe(false);
    expect(first.value?.status).toBe('QUEUED');
  });

  it('errors are typed problem documents (code, status, problem.type, requestId)', async () => {
    const err: unknown = await client.createSession({ region: 'mars-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VentusProblemError);
    const problem = err as VentusProblemError;
    expect(problem.status).toBe(422);
    expect(problem.code).toBe('unprocessable-entity');
    expect(problem.problem.type).toMatch(/\/errors\/unprocessable-entity$/);
    expect(problem.requestId).toBeTruthy();
    expect(isProblem(err, 'unprocessable-entity')).toBe(true);

    const stranger = new VentusClient({ baseUrl: server.url, apiKey: 'vs_nope.nope' });
    await expect(stranger.getSession('01JC1AMQX4N3PWV9MR2BCKDH7E')).rejects.toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
    await expect(client.getSession('01JC1AMQX4N3PWV9MR2BCKDH7E')).rejects.toMatchObject({
      code: 'not-found',
    });
  });

  it('a 503 that outlasts the deadline is thrown as the problem, with retryAfter', async () => {
    const full = new VentusClient({ baseUrl: server.url, apiKey: (await ctx.seedKey()).apiKey });
    // Fill the pool (max_total 30; earlier tests hold some of it): create until the first 503.
    for (let i = 0; i < 30; i++) {
      const err: unknown = await full.createSession({}, { timeoutMs: 100 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (err) break;
    }
    const started = Date.now();
    const err: unknown = await full.createSession({}, { timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(isProblem(err, 'insufficient-capacity')).toBe(true);
    expect((err as VentusProblemError).retryAfter).toBeGreaterThan(0);
  });
});
