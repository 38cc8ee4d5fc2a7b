import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { authenticateApiKey } from '../../core/db/workspaces.repository.ts';
import { workspaceHelpers, keyIdOf, type KeyBody, type Page } from '../support/workspace-fixtures.ts';

describe('API keys', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  const { workspace, createKey, audit } = workspaceHelpers(() => ({ ctx, server }));

  beforeAll(async () => {
    ctx = await TestContext.create();
    server = await ctx.startApi();
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  describe('API keys', () => {
    it('shows the full key only on create; the list never has it; the key has exactly its scopes', async () => {
      const { api, keyId } = await workspace();
      const created = await api.request<KeyBody>('POST', '/v1/keys', {
        body: { name: 'ci reader', scopes: ['sessions:read'] },
      });
      expect(created.status).toBe(201);
      const key = created.body;
      expect(key).toMatchObject({ name: 'ci reader', scopes: ['sessions:read'], revoked_at: null });
      expect(key.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(key.api_key).toMatch(new RegExp(`^vs_${key.id}\\.[A-Za-z0-9]{32}$`));
      expect(Date.parse(key.created_at)).not.toBeNaN();
      expect(created.headers.get('location')).toBe(`/v1/keys/${key.id}`);
      const secret = key.api_key!.split('.')[1]!;

      const list = await api.request<Page<KeyBody>>('GET', '/v1/keys');
      expect(list.status).toBe(200);
      expect(list.body.items.map((k) => k.id)).toEqual([keyId, key.id]);
      const listed = list.body.items.find((k) => k.id === key.id)!;
      expect(Object.keys(listed).sort()).toEqual(['created_at', 'id', 'name', 'revoked_at', 'scopes']);
      expect(JSON.stringify(list.body)).not.toContain(secret);

      const principal = await authenticateApiKey(ctx.db, key.api_key!);
      expect(principal?.scopes).toEqual(['sessions:read']);
      const asNew = new ApiClient(server.url, key.api_key);
      expect((await asNew.request('GET', '/v1/sessions')).status).toBe(200);
      expect((await asNew.createSession()).status).toBe(403);
      expect((await asNew.request('GET', '/v1/keys')).status).toBe(403);
      expect((await asNew.request('GET', '/v1/audit')).status).toBe(403);
    });

    it('refuses to grant a scope the caller lacks, and operator through the API at all', async () => {
      const { api } = await workspace(['keys:admin', 'sessions:read']);
      const lacking = await api.request('POST', '/v1/keys', {
        body: { scopes: ['sessions:read', 'sessions:write'] },
      });
      expect(lacking.status).toBe(403);
      expect(lacking.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(lacking.body.detail).toMatch(/sessions:write/);
      expect((await api.request('POST', '/v1/keys', { body: { scopes: ['operator'] } })).status).toBe(403);

      const operator = await workspace(['operator']);
      const viaOperator = await operator.api.request('POST', '/v1/keys', { body: { scopes: ['operator'] } });
      expect(viaOperator.status).toBe(403);
      expect(viaOperator.body.detail).toMatch(/CLI/);
      // operator implies every other scope, so it may grant them.
      expect(
        (await operator.api.request('POST', '/v1/keys', { body: { scopes: ['audit:read', 'keys:admin'] } }))
          .status,
      ).toBe(201);

      // Invalid bodies are 400.
      for (const body of [
        {},
        { scopes: [] },
        { scopes: ['nope'] },
        { scopes: ['sessions:read'], extra: 1 },
      ]) {
        expect((await api.request('POST', '/v1/keys', { body })).status).toBe(400);
      }
      // No key was created by any refused request.
      const { rows } = await ctx.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM api_keys WHERE workspace_id = (SELECT workspace_id FROM api_keys WHERE id = $1)`,
        [keyIdOf(api.apiKey!)],
      );
      expect(rows[0]!.n).toBe(1);
    });

    it('revokes a key: it gets 401 at once (even with a warm cache); revoking again is a harmless 204', async () => {
      const { api } = await workspace();
      const { key, api: victim } = await createKey(api, ['sessions:read']);
      expect((await victim.request('GET', '/v1/sessions')).status).toBe(200);

      expect((await api.request('DELETE', `/v1/keys/${key.id}`)).status).toBe(204);
      const after = await victim.request('GET', '/v1/sessions');
      expect(after.status).toBe(401);
      expect(after.headers.get('content-type')).toMatch(/application\/problem\+json/);

      expect((await api.request('DELETE', `/v1/keys/${key.id}`)).status).toBe(204);
      const list = await api.request<Page<KeyBody>>('GET', '/v1/keys');
      const revoked = list.body.items.find((k) => k.id === key.id)!;
      expect(Date.parse(revoked.revoked_at!)).not.toBeNaN();
      // Exactly one revoke audit row, though DELETE ran twice.
      expect((await audit(api, `?target=api_key:${key.id}`)).items.map((a) => a.action)).toEqual([
        'key.revoke',
        'key.create',
      ]);

      // A key may revoke itself; its next request fails.
      const self = await workspace();
      expect((await self.api.request('DELETE', `/v1/keys/${self.keyId}`)).status).toBe(204);
      expect((await self.api.request('GET', '/v1/keys')).status).toBe(401);
    });

    it('paginates keys with opaque cursors and validates limit and cursor', async () => {
      const { api, keyId } = await workspace();
      const ids = [keyId];
      for (let i = 0; i < 4; i++) {
        ids.push((await createKey(api, ['sessions:read'])).key.id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
        const page: Page<KeyBody> = (await api.request<Page<KeyBody>>('GET', `/v1/keys${q}`)).body;
        expect(page.items.length).toBeLessThanOrEqual(2);
        expect(page.has_more).toBe(page.next_cursor !== null);
        seen.push(...page.items.map((k) => k.id));
        cursor = page.next_cursor;
      } while (cursor);
      expect(seen).toEqual(ids);
      expect((await api.request('GET', '/v1/keys?limit=0')).status).toBe(400);
      expect((await api.request('GET', '/v1/keys?limit=101')).status).toBe(400);
      expect((await api.request('GET', '/v1/keys?cursor=garbage')).status).toBe(400);
    });
  });

  it('documents every route in /openapi.json with its scope, responses and problem types', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { description?: string; responses: Record<string, unknown> }>>;
    };
    const expected: [string, string, string[]][] = [
      ['/v1/keys', 'post', ['201', '400', '401', '403']],
      ['/v1/keys', 'get', ['200', '400', '401', '403']],
      ['/v1/keys/{id}', 'delete', ['204', '401', '403', '404']],
      ['/v1/members', 'get', ['200', '400', '401', '403']],
      ['/v1/members', 'post', ['201', '400', '401', '403', '409']],
      ['/v1/members/{id}', 'patch', ['200', '400', '401', '403', '404', '409']],
      ['/v1/members/{id}', 'delete', ['204', '401', '403', '404', '409']],
      ['/v1/audit', 'get', ['200', '400', '401', '403']],
    ];
    for (const [path, method, statuses] of expected) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(Object.keys(op!.responses)).toEqual(expect.arrayContaining(statuses));
      expect(op!.description).toMatch(/Requires scope/);
    }
  });
});
