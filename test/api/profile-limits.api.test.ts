/**
 * A workspace's profile limits: how many profiles (held under racing creates), how many versions each
 * keeps (the oldest pruned, never one a live session pinned) and how many bytes it stores (a write past
 * it is refused and leaves nothing behind).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { ALL, state, type ProfileBody } from '../support/profile-fixtures.ts';

describe('profile limits', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let operator: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 10 });
    server = await ctx.startApi();
    operator = new ApiClient(server.url, (await ctx.seedKey(['operator'])).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  async function workspaceWith(limits: Record<string, number>) {
    const { apiKey, workspaceId } = await ctx.seedKey(ALL);
    const set = await operator.request('PATCH', `/v1/workspaces/${workspaceId}/limits`, { body: limits });
    expect(set.status).toBe(200);
    return { api: new ApiClient(server.url, apiKey), workspaceId };
  }
  const createProfile = (api: ApiClient, name: string, storage_state: unknown = state(name)) =>
    api.request<ProfileBody>('POST', '/v1/profiles', { body: { name, storage_state } });
  const append = (api: ApiClient, id: string, secret: string) =>
    api.request('POST', `/v1/profiles/${id}/versions`, { body: { storage_state: state(secret) } });

  it('30 racing creates in a workspace allowed 2 profiles make exactly 2; the rest get 409 workspace-limit-reached', async () => {
    const { api, workspaceId } = await workspaceWith({ profiles: 2 });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => createProfile(api, `p${i}`)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.every((r) => r.status === 409)).toBe(true);
    expect(String(refused[0]!.body.type)).toMatch(/\/workspace-limit-reached$/);
    expect(String(refused[0]!.body.detail)).toContain('limit of 2');
    const { rows } = await ctx.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM profiles WHERE workspace_id = $1',
      [workspaceId],
    );
    expect(rows[0]!.n).toBe(2);
  });

  it('keeps the newest versions_per_profile versions, never pruning one a live session pinned', async () => {
    const { api } = await workspaceWith({ versions_per_profile: 3 });
    const profile = (await createProfile(api, 'kept')).body;
    for (let v = 2; v <= 4; v++) expect((await append(api, profile.id, `v${v}`)).status).toBe(201);
    // A live session pins version 2.
    const pinned = await api.createSession({ profile_id: profile.id, profile_version: 2 });
    expect(pinned.status).toBe(202);
    for (let v = 5; v <= 8; v++) expect((await append(api, profile.id, `v${v}`)).status).toBe(201);
    const { rows } = await ctx.db.query<{ version: number }>(
      'SELECT version FROM profile_versions WHERE profile_id = $1 ORDER BY version',
      [profile.id],
    );
    expect(rows.map((r) => r.version)).toEqual([2, 6, 7, 8]);
    expect((await api.request('GET', `/v1/profiles/${profile.id}/versions/1`)).status).toBe(404);
    expect((await api.request('GET', `/v1/profiles/${profile.id}/versions/8`)).status).toBe(200);
    // A pruned version cannot be pinned by a new session.
    const old = await api.createSession({ profile_id: profile.id, profile_version: 5 });
    expect(old.status).toBe(422);
    // Once the session ends, the next append prunes version 2 as well.
    await api.release(pinned.body.id);
    expect((await append(api, profile.id, 'v9')).status).toBe(201);
    const after = await ctx.db.query<{ version: number }>(
      'SELECT version FROM profile_versions WHERE profile_id = $1 ORDER BY version',
      [profile.id],
    );
    expect(after.rows.map((r) => r.version)).toEqual([7, 8, 9]);
  });

  it('a write that would pass stored_bytes is refused and leaves nothing behind', async () => {
    const { api, workspaceId } = await workspaceWith({ stored_bytes: 6000 });
    const small = await createProfile(api, 'small');
    expect(small.status).toBe(201);
    const big = {
      cookies: Array.from({ length: 40 }, (_, i) => ({
        name: `c${i}`,
        value: 'x'.repeat(100),
        domain: 'example.com',
        path: '/',
      })),
      origins: [],
    };
    const refused = await createProfile(api, 'big', big);
    expect(refused.status).toBe(409);
    expect(String(refused.body.detail)).toContain('limit of 6000');
    const appended = await api.request('POST', `/v1/profiles/${small.body.id}/versions`, {
      body: { storage_state: big },
    });
    expect(appended.status).toBe(409);
    const { rows } = await ctx.db.query<{ profiles: number; versions: number }>(
      `SELECT count(DISTINCT p.id)::int AS profiles, count(*)::int AS versions
         FROM profiles p JOIN profile_versions v ON v.profile_id = p.id WHERE p.workspace_id = $1`,
      [workspaceId],
    );
    expect(rows[0]).toEqual({ profiles: 1, versions: 1 });
  });
});
