import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { inlineSchemaRefs } from '../support/openapi-refs.ts';
import {
  ALL,
  MISSING_ULID,
  append,
  create,
  expectProblem,
  newProfileOf,
  state,
  uniqueName,
  type OpenApiDocument,
  type OpenApiOperation,
  type ListBody,
  type ProfileBody,
} from '../support/profile-fixtures.ts';

describe('profiles API: scopes, isolation, validation, sessions, documentation', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let apiKey: string;
  let api: ApiClient;
  let other: ApiClient;
  let sessionsOnly: ApiClient;
  const newProfile = (client: ApiClient = api) => newProfileOf(client);

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
    const slotsBefore = await server.services.poolSlots.activeCount('us-east1-chromium');
    const unknown = await api.createSession({ profile_id: MISSING_ULID });
    expectProblem(unknown, 422, 'unprocessable-entity');
    expect(String(unknown.body.detail)).toContain(MISSING_ULID);
    expectProblem(await api.createSession({ profile_version: 1 }), 422, 'unprocessable-entity');

    const { id } = await newProfile();
    await append(api, id, state('v2'), '"1"');
    const tooNew = await api.createSession({ profile_id: id, profile_version: 3 });
    expectProblem(tooNew, 422, 'unprocessable-entity');
    expect(String(tooNew.body.detail)).toMatch(/no version 3 \(kept versions end at 2/);
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
    expect(await server.services.poolSlots.activeCount('us-east1-chromium')).toBe(slotsBefore + 3);
    for (const s of [latest, pinned, plain]) await api.release(s.body.id);
  });

  it('documents every profile route in /openapi.json', async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    const { paths } = inlineSchemaRefs((await res.json()) as OpenApiDocument);
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
