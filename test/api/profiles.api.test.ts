import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient, type ApiResponse } from '../support/api-client.ts';
import type { Scope } from '../../core/domain/scopes.ts';

const ALL: Scope[] = ['sessions:read', 'sessions:write', 'profiles:read', 'profiles:write'];
const MISSING_ULID = '01JC1AMQX4N3PWV9MR2BCKDH7E';

/** A storage_state whose secret values are easy to search for in responses and audit rows. */
function state(secret: string) {
  return {
    cookies: [{ name: 'sid', value: `cookie-${secret}`, domain: 'example.com', path: '/', httpOnly: true }],
    origins: [{ origin: 'https://example.com', localStorage: [{ name: 'token', value: `ls-${secret}` }] }],
  };
}

interface ProfileBody {
  id: string;
  name: string;
  latest_version: number;
  created_at: string;
  updated_at: string;
  [key: string]: unknown;
}

interface VersionBody {
  profile_id: string;
  version: number;
  created_at: string;
  storage_state?: unknown;
  [key: string]: unknown;
}

interface ListBody {
  items: ProfileBody[];
  next_cursor: string | null;
  has_more: boolean;
}

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
}

interface OpenApiOperation {
  parameters?: { name: string }[];
  responses: Record<
    string,
    { headers?: Record<string, unknown>; content?: Record<string, { schema?: JsonSchema }> } | undefined
  >;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation | undefined> | undefined>;
}

const keyIdOf = (apiKey: string) => apiKey.slice(3, 29);

describe('profiles API', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let apiKey: string;
  let api: ApiClient;
  let other: ApiClient;
  let sessionsOnly: ApiClient;
  let counter = 0;

  const create = (client: ApiClient, name: string, storage_state: unknown = state(name)) =>
    client.request<ProfileBody>('POST', '/v1/profiles', { body: { name, storage_state } });
  const append = (client: ApiClient, id: string, storage_state: unknown, ifMatch?: string) =>
    client.request<VersionBody>('POST', `/v1/profiles/${id}/versions`, {
      body: { storage_state },
      headers: ifMatch === undefined ? {} : { 'if-match': ifMatch },
    });
  const uniqueName = () => `profile-${++counter}-${Date.now().toString(36)}`;
  const newProfile = async (client: ApiClient = api): Promise<ProfileBody> => {
    const res = await create(client, uniqueName());
    expect(res.status).toBe(201);
    return res.body;
  };
  const expectProblem = (res: ApiResponse, status: number, type: string) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: `https://api.sessions.ventus.ai/errors/${type}`, status });
  };

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 10 });
    server = await ctx.startApi();
    apiKey = (await ctx.seedKey(ALL)).apiKey;
    api = new ApiClient(server.url, apiKey);
    other = new ApiClient(server.url, (await ctx.seedKey(ALL)).apiKey);
    sessionsOnly = new ApiClient(server.url, (await ctx.seedKey(['sessions:read', 'sessions:write'])).apiKey);
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

  it('needs profiles:read / profiles:write: a key with only sessions scopes gets 403 on every route', async () => {
    const { id } = await newProfile();
    const calls = [
      create(sessionsOnly, uniqueName()),
      sessionsOnly.request('GET', '/v1/profiles'),
      sessionsOnly.request('GET', `/v1/profiles/${id}`),
      append(sessionsOnly, id, state('nope'), '"1"'),
      sessionsOnly.request('GET', `/v1/profiles/${id}/versions/1`),
      sessionsOnly.request('DELETE', `/v1/profiles/${id}`),
    ];
    for (const res of await Promise.all(calls)) expectProblem(res, 403, 'forbidden');
    const read = await api.request<ProfileBody>('GET', `/v1/profiles/${id}`);
    expect(read.body.latest_version).toBe(1);
  });

  it("another workspace's profile is 404 on every route (and 422 as a session's profile_id)", async () => {
    const { id } = await newProfile(other);
    expectProblem(await api.request('GET', `/v1/profiles/${id}`), 404, 'not-found');
    expectProblem(await append(api, id, state('cross'), '"1"'), 404, 'not-found');
    expectProblem(await append(api, id, state('cross')), 404, 'not-found');
    expectProblem(await api.request('GET', `/v1/profiles/${id}/versions/1`), 404, 'not-found');
    expectProblem(await api.request('DELETE', `/v1/profiles/${id}`), 404, 'not-found');
    const list = await api.request<ListBody>('GET', '/v1/profiles?limit=100');
    expect(list.body.items.map((p) => p.id)).not.toContain(id);
    expectProblem(await api.createSession({ profile_id: id }), 422, 'unprocessable-entity');
    // Untouched for its owner.
    const own = await other.request<ProfileBody>('GET', `/v1/profiles/${id}`);
    expect(own.status).toBe(200);
    expect(own.body.latest_version).toBe(1);
  });

  it('rejects unknown fields and malformed bodies with 400', async () => {
    const unknownTop = await api.request('POST', '/v1/profiles', {
      body: { name: uniqueName(), storage_state: state('u'), color: 'blue' },
    });
    expectProblem(unknownTop, 400, 'validation-error');
    expect(unknownTop.body.errors).toEqual([expect.objectContaining({ unknown_field: 'color' })]);
    const nested = await create(api, uniqueName(), { cookies: [{ name: 'a', value: 'b', extra: 1 }] });
    expectProblem(nested, 400, 'validation-error');
    expectProblem(
      await api.request('POST', '/v1/profiles', { body: { storage_state: state('n') } }),
      400,
      'validation-error',
    );
    expectProblem(await create(api, ''), 400, 'validation-error');
    expectProblem(await create(api, 'line\nbreak'), 400, 'validation-error');
    expectProblem(await create(api, 'x'.repeat(129)), 400, 'validation-error');
    expectProblem(await api.request('GET', '/v1/profiles?color=blue'), 400, 'validation-error');

    const { id } = await newProfile();
    const unknownVersion = await api.request('POST', `/v1/profiles/${id}/versions`, {
      body: { storage_state: state('v'), name: 'rename' },
    });
    expectProblem(unknownVersion, 400, 'validation-error');
    expect(unknownVersion.body.errors).toEqual([expect.objectContaining({ unknown_field: 'name' })]);
    expectProblem(
      await api.request('POST', `/v1/profiles/${id}/versions`, { body: {} }),
      400,
      'validation-error',
    );
  });

  it('sessions: an unknown profile_id is 422; a valid one is stored with its pinned version', async () => {
    // Slots are freed by the teardown worker, which startApi does not run: compare against now.
    const slotsBefore = await server.services.pools.activeCount('us-east1-chromium');
    const unknown = await api.createSession({ profile_id: MISSING_ULID });
    expectProblem(unknown, 422, 'unprocessable-entity');
    expect(String(unknown.body.detail)).toContain(MISSING_ULID);
    expectProblem(await api.createSession({ profile_version: 1 }), 422, 'unprocessable-entity');

    const { id } = await newProfile();
    await append(api, id, state('v2'), '"1"');
    const tooNew = await api.createSession({ profile_id: id, profile_version: 3 });
    expectProblem(tooNew, 422, 'unprocessable-entity');
    expect(String(tooNew.body.detail)).toMatch(/no version 3; its latest is 2/);
    expectProblem(await api.createSession({ profile_id: id, profile_version: 0 }), 400, 'validation-error');

    const latest = await api.createSession({ profile_id: id });
    expect(latest.status).toBe(202);
    expect(latest.body).toMatchObject({ status: 'QUEUED', profile_id: id, profile_version: 2 });
    const pinned = await api.createSession({ profile_id: id, profile_version: 1 });
    expect(pinned.status).toBe(202);
    expect(pinned.body).toMatchObject({ profile_id: id, profile_version: 1 });
    expect((await api.getSession(pinned.body.id)).body).toMatchObject({ profile_id: id, profile_version: 1 });
    const plain = await api.createSession();
    expect(plain.body).toMatchObject({ profile_id: null, profile_version: null });

    // No slot was taken by the refused creates.
    expect(await server.services.pools.activeCount('us-east1-chromium')).toBe(slotsBefore + 3);
    for (const s of [latest, pinned, plain]) await api.release(s.body.id);
  });

  it('documents every profile route in /openapi.json', async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    const { paths } = (await res.json()) as OpenApiDocument;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        '/v1/profiles',
        '/v1/profiles/{id}',
        '/v1/profiles/{id}/versions',
        '/v1/profiles/{id}/versions/{n}',
      ]),
    );
    const op = (path: string, method: string): OpenApiOperation => {
      const found = paths[path]?.[method];
      if (!found) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
      return found;
    };
    const jsonSchema = (o: OpenApiOperation, status: string) =>
      o.responses[status]?.content?.['application/json']?.schema;

    const createOp = op('/v1/profiles', 'post');
    expect(Object.keys(createOp.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '409', '429']),
    );
    expect(createOp.responses['201']?.headers).toHaveProperty('ETag');
    expect(createOp.responses['201']?.headers).toHaveProperty('Location');
    expect(createOp.responses['409']?.content).toHaveProperty(['application/problem+json']);
    expect(
      jsonSchema(op('/v1/profiles', 'get'), '200')?.properties?.items?.items?.properties,
    ).not.toHaveProperty('storage_state');
    expect(op('/v1/profiles/{id}', 'get').responses['200']?.headers).toHaveProperty('ETag');
    expect(Object.keys(op('/v1/profiles/{id}', 'delete').responses)).toEqual(
      expect.arrayContaining(['204', '403', '404']),
    );
    const appendOp = op('/v1/profiles/{id}/versions', 'post');
    expect(appendOp.parameters?.map((p) => p.name)).toContain('if-match');
    expect(Object.keys(appendOp.responses)).toEqual(expect.arrayContaining(['201', '400', '404', '409']));
    expect(jsonSchema(appendOp, '201')?.properties).not.toHaveProperty('storage_state');
    expect(jsonSchema(op('/v1/profiles/{id}/versions/{n}', 'get'), '200')?.properties).toHaveProperty(
      'storage_state',
    );
  });
});
