/**
 * A workspace's share of live sessions is enforced in the same atomic Redis step as the pool: racing
 * creates from one workspace never pass its quota, another workspace still gets sessions, and a Redis
 * that lost its data rebuilds the shares from Postgres before it admits anyone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { limitDefaults, updateWorkspaceLimits } from '../../core/db/workspace-settings.repository.ts';

const POOL = 'us-east1-chromium';
const QUOTA = 5;
const CREATES = 200;

describe('workspace live-session quota', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let greedy: ApiClient;
  let other: ApiClient;
  let greedyId: string;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 100, env: { VENTUS_RATE_LIMIT_PER_MINUTE: '100000' } });
    server = await ctx.startApi();
    const a = await ctx.seedKey();
    const b = await ctx.seedKey();
    greedyId = a.workspaceId;
    await updateWorkspaceLimits(ctx.db, a.workspaceId, { live_sessions: QUOTA }, limitDefaults(ctx.config));
    greedy = new ApiClient(server.url, a.apiKey);
    other = new ApiClient(server.url, b.apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  const liveOf = async (workspaceId: string) =>
    (
      await ctx.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM sessions WHERE workspace_id = $1 AND status = 'QUEUED'`,
        [workspaceId],
      )
    ).rows[0]!.n;

  it(`${CREATES} concurrent creates from one workspace admit exactly its quota; another workspace still gets its sessions`, async () => {
    const [mine, theirs] = await Promise.all([
      Promise.all(Array.from({ length: CREATES }, () => greedy.createSession({ timeout_seconds: 600 }))),
      Promise.all(Array.from({ length: 10 }, () => other.createSession({ timeout_seconds: 600 }))),
    ]);
    expect(mine.filter((r) => r.status === 202)).toHaveLength(QUOTA);
    const refused = mine.filter((r) => r.status !== 202);
    expect(refused.every((r) => r.status === 429)).toBe(true);
    expect(theirs.every((r) => r.status === 202)).toBe(true);
    expect(await liveOf(greedyId)).toBe(QUOTA);

    // A refusal that raced the admitted creates may see none of their rows committed yet: it knows no
    // expiry and says 1 s (retry soon, then hear the real figure); any other says the expiry bound.
    const advertised = refused.map((r) => Number(r.headers.get('retry-after')));
    expect(advertised.every((s) => s === 1 || (s > 500 && s <= 600))).toBe(true);

    const problem = await greedy.createSession({ timeout_seconds: 600 });
    expect(problem.status).toBe(429);
    expect(String(problem.body.type)).toMatch(/\/session-quota-exceeded$/);
    expect(problem.body.limit).toBe(QUOTA);
    expect(String(problem.body.detail)).toContain(`${QUOTA} live sessions`);
    // No release seen yet, the admitted rows committed: the bound is the earliest expires_at of the
    // workspace's sessions (~600 s).
    const retryAfter = Number(problem.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(500);
    expect(retryAfter).toBeLessThanOrEqual(600);
  });

  it('after Redis loses its data, the share is rebuilt from Postgres before anyone is admitted', async () => {
    const keys = await server.services.redis.keys(`${ctx.name}:*`);
    await server.services.redis.del(...keys);
    const [mine, theirs] = await Promise.all([
      Promise.all(Array.from({ length: CREATES }, () => greedy.createSession())),
      other.createSession(),
    ]);
    expect(mine.filter((r) => r.status === 202)).toHaveLength(0);
    expect(theirs.status).toBe(202);
    expect(await liveOf(greedyId)).toBe(QUOTA);
    expect(await server.services.poolSlots.workspaceLiveCount(greedyId)).toBe(QUOTA);
  });

  it('a released slot admits exactly one of many racing creates, and Retry-After follows the turnover', async () => {
    const { rows } = await ctx.db.query<{ id: string }>(
      `SELECT id FROM sessions WHERE workspace_id = $1 AND status = 'QUEUED' LIMIT 1`,
      [greedyId],
    );
    expect((await greedy.release(rows[0]!.id)).status).toBe(200);
    // No workers run here: free the slot as the teardown job would.
    await server.services.poolSlots.release(POOL, rows[0]!.id);
    const results = await Promise.all(Array.from({ length: 50 }, () => greedy.createSession()));
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
    expect(await liveOf(greedyId)).toBe(QUOTA);
    // A slot came back moments ago: the advertised wait is the observed gap between releases, not
    // the ~600 s until the earliest expiry.
    const refused = results.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get('retry-after'))).toBeLessThan(60);
  });
});
