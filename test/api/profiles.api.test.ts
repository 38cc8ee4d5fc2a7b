import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient, type ApiResponse } from '../support/api-client.ts';
import {
  ALL,
  MISSING_ULID,
  append,
  create,
  expectProblem,
  keyIdOf,
  newProfileOf,
  state,
  uniqueName,
  type ListBody,
  type ProfileBody,
  type VersionBody,
} from '../support/profile-fixtures.ts';

describe('profiles API: create, list, versions, delete', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let apiKey: string;
  let api: ApiClient;
  let other: ApiClient;
  const newProfile = (client: ApiClient = api) => newProfileOf(client);

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 10 });
    server = await ctx.startApi();
    apiKey = (await ctx.seedKey(ALL)).apiKey;
    api = new ApiClient(server.url, apiKey);
    other = new ApiClient(server.url, (await ctx.seedKey(ALL)).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('creates a profile at version 1 (201, Location, ETag), without storage_state, audited', async () => {
    const name = uniqueName();
    const res = await create(api, name, state('create'));
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual([
      'created_at',
      'id',
      'latest_version',
      'name',
      'updated_at',
    ]);
    expect(res.body).toMatchObject({ name, latest_version: 1 });
    expect(res.body.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(res.body.updated_at).toBe(res.body.created_at);
    expect(res.headers.get('location')).toBe(`/v1/profiles/${res.body.id}`);
    expect(res.headers.get('etag')).toBe('"1"');

    const audit = await ctx.db.query<{ action: string; class: string; actor: string; detail: unknown }>(
      `SELECT action, class, actor, detail FROM audit_log WHERE target_type = 'profile' AND target_id = $1`,
      [res.body.id],
    );
    expect(audit.rows).toEqual([
      { action: 'profile.create', class: 'tenant', actor: keyIdOf(apiKey), detail: { version: 1 } },
    ]);
  });

  it('refuses a duplicate name in the workspace with 409; another workspace may use it', async () => {
    const name = uniqueName();
    expect((await create(api, name)).status).toBe(201);
    const dup = await create(api, name);
    expectProblem(dup, 409, 'state-conflict');
    expect(String(dup.body.detail)).toContain(name);
    expect((await create(other, name)).status).toBe(201);
    const { rows } = await ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'profile.create' AND actor = $1`,
      [keyIdOf(apiKey)],
    );
    const profiles = await ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM profiles p JOIN api_keys k ON k.workspace_id = p.workspace_id WHERE k.id = $1`,
      [keyIdOf(apiKey)],
    );
    // The refused create wrote no audit row: one row per profile that exists.
    expect(rows[0]!.n).toBe(profiles.rows[0]!.n);
  });

  it('lists profiles cursor-paginated by id, never with storage_state', async () => {
    const client = new ApiClient(server.url, (await ctx.seedKey(ALL)).apiKey);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await newProfile(client)).id);

    const seen: string[] = [];
    let cursor: string | null = null;
    const pages: number[] = [];
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page: ApiResponse<ListBody> = await client.request<ListBody>('GET', `/v1/profiles${query}`);
      expect(page.status).toBe(200);
      expect(JSON.stringify(page.body)).not.toMatch(/storage_state|cookie-|ls-/);
      for (const item of page.body.items)
        expect(Object.keys(item).sort()).toEqual([
          'created_at',
          'id',
          'latest_version',
          'name',
          'updated_at',
        ]);
      expect(page.body.has_more).toBe(page.body.next_cursor !== null);
      pages.push(page.body.items.length);
      seen.push(...page.body.items.map((p) => p.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(pages).toEqual([2, 2, 1]);
    expect(seen).toEqual([...ids].sort());

    const all = await client.request<ListBody>('GET', '/v1/profiles');
    expect(all.body).toMatchObject({ next_cursor: null, has_more: false });
    expect(all.body.items).toHaveLength(5);

    expectProblem(await client.request('GET', '/v1/profiles?cursor=nonsense'), 400, 'validation-error');
    expectProblem(await client.request('GET', '/v1/profiles?limit=0'), 400, 'validation-error');
    expectProblem(await client.request('GET', '/v1/profiles?limit=101'), 400, 'validation-error');
  });

  it('reads a profile with its ETag and without storage_state', async () => {
    const created = await newProfile();
    const res = await api.request<ProfileBody>('GET', `/v1/profiles/${created.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created);
    expect(res.headers.get('etag')).toBe('"1"');
    expectProblem(await api.request('GET', `/v1/profiles/${MISSING_ULID}`), 404, 'not-found');
    expectProblem(await api.request('GET', '/v1/profiles/not-a-ulid'), 404, 'not-found');
  });

  it('appends versions under If-Match: matching → 201, stale → 409, none → appended after the latest', async () => {
    const { id } = await newProfile();
    const v2 = await append(api, id, state('v2'), '"1"');
    expect(v2.status).toBe(201);
    expect(Object.keys(v2.body).sort()).toEqual(['created_at', 'profile_id', 'version']);
    expect(v2.body).toMatchObject({ profile_id: id, version: 2 });
    expect(v2.headers.get('location')).toBe(`/v1/profiles/${id}/versions/2`);
    expect(v2.headers.get('etag')).toBe('"2"');

    const read = await api.request<ProfileBody>('GET', `/v1/profiles/${id}`);
    expect(read.body.latest_version).toBe(2);
    expect(read.headers.get('etag')).toBe('"2"');
    expect(Date.parse(read.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(read.body.created_at));

    const bare = await append(api, id, state('v3'), '2');
    expect(bare.status).toBe(201);
    expect(bare.body.version).toBe(3);

    const stale = await append(api, id, state('stale'), '"1"');
    expectProblem(stale, 409, 'state-conflict');
    expect(String(stale.body.detail)).toMatch(/at version 3/);

    expectProblem(await append(api, id, state('x'), 'W/"3"'), 400, 'validation-error');
    expectProblem(await append(api, id, state('x'), 'three'), 400, 'validation-error');

    const blind = await append(api, id, state('v4'));
    expect(blind.status).toBe(201);
    expect(blind.body.version).toBe(4);
    const star = await append(api, id, state('v5'), '*');
    expect(star.body.version).toBe(5);

    const audit = await ctx.db.query<{ action: string; detail: { version: number } }>(
      `SELECT action, detail FROM audit_log WHERE target_type = 'profile' AND target_id = $1 ORDER BY id`,
      [id],
    );
    expect(audit.rows.map((r) => [r.action, r.detail.version])).toEqual([
      ['profile.create', 1],
      ['profile.version.create', 2],
      ['profile.version.create', 3],
      ['profile.version.create', 4],
      ['profile.version.create', 5],
    ]);
    expect(JSON.stringify(audit.rows)).not.toMatch(/cookie-|ls-|storage_state/);
  });

  it('concurrent appends with the same If-Match: exactly one wins, the others get 409', async () => {
    const { id } = await newProfile();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => append(api, id, state(`race-${i}`), '"1"')),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
    const winner = results.find((r) => r.status === 201)!;
    expect(winner.body.version).toBe(2);
    const { rows } = await ctx.db.query<{ version: number }>(
      'SELECT version FROM profile_versions WHERE profile_id = $1 ORDER BY version',
      [id],
    );
    expect(rows.map((r) => r.version)).toEqual([1, 2]);
  });

  it('concurrent appends without If-Match each get their own version number', async () => {
    const { id } = await newProfile();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => append(api, id, state(`blind-${i}`))),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(results.map((r) => r.body.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const read = await api.request<ProfileBody>('GET', `/v1/profiles/${id}`);
    expect(read.body.latest_version).toBe(9);
  });

  it('returns a version with its own storage_state', async () => {
    const { id, name } = await newProfile();
    await append(api, id, state('second'), '"1"');
    const v1 = await api.request<VersionBody>('GET', `/v1/profiles/${id}/versions/1`);
    expect(v1.status).toBe(200);
    expect(Object.keys(v1.body).sort()).toEqual(['created_at', 'profile_id', 'storage_state', 'version']);
    expect(v1.body).toMatchObject({ profile_id: id, version: 1, storage_state: state(name) });
    const v2 = await api.request<VersionBody>('GET', `/v1/profiles/${id}/versions/2`);
    expect(v2.body.storage_state).toEqual(state('second'));
    expect(v1.body.storage_state).not.toEqual(v2.body.storage_state);

    expectProblem(await api.request('GET', `/v1/profiles/${id}/versions/3`), 404, 'not-found');
    expectProblem(await api.request('GET', `/v1/profiles/${MISSING_ULID}/versions/1`), 404, 'not-found');
    expectProblem(await api.request('GET', `/v1/profiles/${id}/versions/0`), 400, 'validation-error');
    expectProblem(await api.request('GET', `/v1/profiles/${id}/versions/abc`), 400, 'validation-error');
  });

  it('deletes a profile: 204, then 404 everywhere; a session created from it is unaffected', async () => {
    const profile = await newProfile();
    const session = await api.createSession({ profile_id: profile.id });
    expect(session.status).toBe(202);

    const del = await api.request('DELETE', `/v1/profiles/${profile.id}`);
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();

    expectProblem(await api.request('GET', `/v1/profiles/${profile.id}`), 404, 'not-found');
    expectProblem(await api.request('GET', `/v1/profiles/${profile.id}/versions/1`), 404, 'not-found');
    expectProblem(await append(api, profile.id, state('after'), '"1"'), 404, 'not-found');
    expectProblem(await api.request('DELETE', `/v1/profiles/${profile.id}`), 404, 'not-found');
    const list = await api.request<ListBody>('GET', '/v1/profiles?limit=100');
    expect(list.body.items.map((p) => p.id)).not.toContain(profile.id);
    expectProblem(await api.createSession({ profile_id: profile.id }), 422, 'unprocessable-entity');

    const still = await api.getSession(session.body.id);
    expect(still.status).toBe(200);
    expect(still.body).toMatchObject({ profile_id: profile.id, profile_version: 1 });
    // The name is free again.
    expect((await create(api, profile.name)).status).toBe(201);

    const audit = await ctx.db.query<{ action: string; detail: unknown }>(
      `SELECT action, detail FROM audit_log WHERE target_type = 'profile' AND target_id = $1 ORDER BY id`,
      [profile.id],
    );
    expect(audit.rows).toEqual([
      { action: 'profile.create', detail: { version: 1 } },
      { action: 'profile.delete', detail: { latest_version: 1 } },
    ]);
    await api.release(session.body.id);
  });
});
