import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { authenticateApiKey } from '../../core/db/workspaces.repository.ts';
import type { Scope } from '../../core/domain/scopes.ts';

interface KeyBody {
  id: string;
  name: string | null;
  scopes: string[];
  created_at: string;
  revoked_at: string | null;
  api_key?: string;
}
interface MemberBody {
  id: string;
  email: string;
  role: string;
  created_at: string;
}
interface AuditBody {
  id: string;
  at: string;
  class: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  detail: Record<string, unknown>;
}
interface Page<T> {
  items: T[];
  next_cursor: string | null;
  has_more: boolean;
}

const ADMIN_SCOPES: Scope[] = ['sessions:read', 'sessions:write', 'keys:admin', 'audit:read'];
/** `vs_<ULID>.<secret>`: the key id is the ULID. */
const keyIdOf = (apiKey: string) => apiKey.slice(3, 29);

describe('keys, members and audit API', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;

  /** A fresh workspace with an admin key, and a client for it. */
  async function workspace(scopes: Scope[] = ADMIN_SCOPES) {
    const { apiKey, workspaceId } = await ctx.seedKey(scopes);
    return { api: new ApiClient(server.url, apiKey), apiKey, keyId: keyIdOf(apiKey), workspaceId };
  }

  async function addMember(api: ApiClient, email: string, role: string) {
    const res = await api.request<MemberBody>('POST', '/v1/members', { body: { email, role } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  /** A new key made through the API; a client for it. */
  async function createKey(api: ApiClient, scopes: Scope[]) {
    const res = await api.request<KeyBody>('POST', '/v1/keys', { body: { scopes } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { key: res.body, api: new ApiClient(server.url, res.body.api_key) };
  }

  async function audit(api: ApiClient, query = '') {
    const res = await api.request<Page<AuditBody>>('GET', `/v1/audit${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

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

  describe('members', () => {
    it('creates, lists, updates and removes members; email is validated and unique per workspace', async () => {
      const { api } = await workspace();
      const ann = await addMember(api, 'Ann@Example.com', 'owner');
      expect(ann).toMatchObject({ email: 'Ann@Example.com', role: 'owner' });
      expect(ann.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      const bob = await addMember(api, 'bob@example.com', 'member');

      const dup = await api.request('POST', '/v1/members', {
        body: { email: 'ann@example.COM', role: 'admin' },
      });
      expect(dup.status).toBe(409);
      expect(dup.body.type).toBe('https://api.sessions.ventus.ai/errors/state-conflict');
      for (const body of [
        { email: 'not-an-email', role: 'member' },
        { email: 'c@example.com', role: 'superuser' },
        { email: 'c@example.com' },
        { email: 'c@example.com', role: 'member', extra: true },
      ]) {
        expect((await api.request('POST', '/v1/members', { body })).status).toBe(400);
      }
      // The same email in another workspace is a different member.
      const other = await workspace();
      await addMember(other.api, 'ann@example.com', 'owner');

      const list = await api.request<Page<MemberBody>>('GET', '/v1/members?limit=1');
      expect(list.body.items).toEqual([ann]);
      expect(list.body.has_more).toBe(true);
      const next = await api.request<Page<MemberBody>>(
        'GET',
        `/v1/members?limit=1&cursor=${list.body.next_cursor}`,
      );
      expect(next.body).toEqual({ items: [bob], next_cursor: null, has_more: false });

      const patched = await api.request<MemberBody>('PATCH', `/v1/members/${bob.id}`, {
        body: { role: 'admin' },
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toEqual({ ...bob, role: 'admin' });
      expect((await api.request('PATCH', `/v1/members/${bob.id}`, { body: { role: 'x' } })).status).toBe(400);

      expect((await api.request('DELETE', `/v1/members/${bob.id}`)).status).toBe(204);
      expect((await api.request('DELETE', `/v1/members/${bob.id}`)).status).toBe(404);
      expect((await api.request('PATCH', `/v1/members/${bob.id}`, { body: { role: 'member' } })).status).toBe(
        404,
      );
      expect(
        (await api.request('PATCH', '/v1/members/not-a-ulid', { body: { role: 'member' } })).status,
      ).toBe(404);
      expect((await api.request<Page<MemberBody>>('GET', '/v1/members')).body.items).toEqual([ann]);
    });

    it('refuses to demote or remove the last owner (409), and writes no audit row for the refusal', async () => {
      const { api } = await workspace();
      const ann = await addMember(api, 'ann@example.com', 'owner');
      const before = (await audit(api, `?target=member:${ann.id}`)).items.length;

      const demote = await api.request('PATCH', `/v1/members/${ann.id}`, { body: { role: 'admin' } });
      expect(demote.status).toBe(409);
      expect(demote.body.type).toBe('https://api.sessions.ventus.ai/errors/state-conflict');
      expect(demote.body.detail).toMatch(/last owner/);
      const remove = await api.request('DELETE', `/v1/members/${ann.id}`);
      expect(remove.status).toBe(409);
      expect(remove.body.detail).toMatch(/last owner/);
      // Staying an owner is not a demotion.
      expect((await api.request('PATCH', `/v1/members/${ann.id}`, { body: { role: 'owner' } })).status).toBe(
        200,
      );
      expect((await audit(api, `?target=member:${ann.id}`)).items.length).toBe(before + 1);

      const bob = await addMember(api, 'bob@example.com', 'member');
      expect((await api.request('PATCH', `/v1/members/${bob.id}`, { body: { role: 'owner' } })).status).toBe(
        200,
      );
      expect((await api.request('PATCH', `/v1/members/${ann.id}`, { body: { role: 'member' } })).status).toBe(
        200,
      );
      expect((await api.request('DELETE', `/v1/members/${bob.id}`)).status).toBe(409);
      expect((await api.request('DELETE', `/v1/members/${ann.id}`)).status).toBe(204);
    });

    it('concurrent demotions or removals of the only two owners leave exactly one owner', async () => {
      const changes: ((id: string) => [string, string, { body?: unknown }])[] = [
        (id) => ['PATCH', `/v1/members/${id}`, { body: { role: 'admin' } }],
        (id) => ['DELETE', `/v1/members/${id}`, {}],
      ];
      for (let round = 0; round < 6; round++) {
        const { api, workspaceId } = await workspace();
        const a = await addMember(api, 'a@example.com', 'owner');
        const b = await addMember(api, 'b@example.com', 'owner');
        await addMember(api, 'c@example.com', 'member');
        const [first, second] = [changes[round % 2]!(a.id), changes[Math.floor(round / 2) % 2]!(b.id)];
        const results = await Promise.all([api.request(...first), api.request(...second)]);
        const statuses = results.map((r) => r.status);
        expect(
          statuses.filter((s) => s === 409),
          JSON.stringify(statuses),
        ).toHaveLength(1);
        expect(
          statuses.filter((s) => s === 200 || s === 204),
          JSON.stringify(statuses),
        ).toHaveLength(1);
        expect(results.find((r) => r.status === 409)!.body.detail).toMatch(/last owner/);
        const { rows } = await ctx.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM members WHERE workspace_id = $1 AND role = 'owner'`,
          [workspaceId],
        );
        expect(rows[0]!.n).toBe(1);
      }
    });
  });

  describe('scopes and workspace isolation', () => {
    it('answers 403 on every route when the key lacks the scope', async () => {
      const owner = await workspace();
      const member = await addMember(owner.api, 'ann@example.com', 'owner');
      const { apiKey } = await ctx.seedKey(['sessions:read', 'sessions:write']);
      // A key of the same workspace, so a 403 cannot be a 404 in disguise.
      const { api: weak } = await createKey(owner.api, ['sessions:read', 'sessions:write']);
      const calls: [string, string, { body?: unknown }][] = [
        ['POST', '/v1/keys', { body: { scopes: ['sessions:read'] } }],
        ['GET', '/v1/keys', {}],
        ['DELETE', `/v1/keys/${owner.keyId}`, {}],
        ['GET', '/v1/members', {}],
        ['POST', '/v1/members', { body: { email: 'x@example.com', role: 'member' } }],
        ['PATCH', `/v1/members/${member.id}`, { body: { role: 'admin' } }],
        ['DELETE', `/v1/members/${member.id}`, {}],
        ['GET', '/v1/audit', {}],
      ];
      for (const client of [weak, new ApiClient(server.url, apiKey)]) {
        for (const [method, path, options] of calls) {
          const res = await client.request(method, path, options);
          expect(res.status, `${method} ${path}`).toBe(403);
          expect(res.body.type).toBe('https://api.sessions.ventus.ai/errors/forbidden');
        }
      }

      // audit:read may read members and the log, not change members or keys.
      const { api: reader } = await createKey(owner.api, ['audit:read']);
      expect((await reader.request('GET', '/v1/members')).status).toBe(200);
      expect((await reader.request('GET', '/v1/audit')).status).toBe(200);
      expect((await reader.request('GET', '/v1/keys')).status).toBe(403);
      expect(
        (await reader.request('PATCH', `/v1/members/${member.id}`, { body: { role: 'owner' } })).status,
      ).toBe(403);
      // keys:admin alone may not read the audit log.
      const { api: admin } = await createKey(owner.api, ['keys:admin']);
      expect((await admin.request('GET', '/v1/audit')).status).toBe(403);
      expect((await admin.request('GET', '/v1/members')).status).toBe(200);
    });

    it("another workspace's keys, members and audit rows do not exist (404, never listed)", async () => {
      const mine = await workspace();
      const theirs = await workspace();
      const theirMember = await addMember(theirs.api, 'ann@example.com', 'owner');
      await addMember(theirs.api, 'bob@example.com', 'owner');
      const theirKey = await createKey(theirs.api, ['sessions:read']);

      expect((await mine.api.request('DELETE', `/v1/keys/${theirs.keyId}`)).status).toBe(404);
      expect((await mine.api.request('DELETE', `/v1/keys/${theirKey.key.id}`)).status).toBe(404);
      // ...and the refused revocation left it working.
      expect((await theirKey.api.request('GET', '/v1/sessions')).status).toBe(200);
      expect((await mine.api.request('DELETE', '/v1/keys/not-a-ulid')).status).toBe(404);
      expect((await theirs.api.request('GET', '/v1/keys')).status).toBe(200);
      expect(
        (await mine.api.request('PATCH', `/v1/members/${theirMember.id}`, { body: { role: 'member' } }))
          .status,
      ).toBe(404);
      expect((await mine.api.request('DELETE', `/v1/members/${theirMember.id}`)).status).toBe(404);
      expect((await theirs.api.request<Page<MemberBody>>('GET', '/v1/members')).body.items).toHaveLength(2);

      expect((await mine.api.request<Page<KeyBody>>('GET', '/v1/keys')).body.items.map((k) => k.id)).toEqual([
        mine.keyId,
      ]);
      expect((await mine.api.request<Page<MemberBody>>('GET', '/v1/members')).body.items).toEqual([]);
      expect((await audit(mine.api)).items).toEqual([]);
      expect((await audit(mine.api, `?target=${theirMember.id}`)).items).toEqual([]);
      expect((await audit(mine.api, `?actor=${theirs.keyId}`)).items).toEqual([]);
      expect((await audit(theirs.api, `?target=${theirMember.id}`)).items).toHaveLength(1);
    });
  });

  describe('audit log', () => {
    it('records each mutation with its actor and action, and filters by target, action and actor', async () => {
      const { api, keyId } = await workspace();
      const key = await api.request<KeyBody>('POST', '/v1/keys', {
        body: { name: 'secret-ish name', scopes: ['keys:admin', 'audit:read'] },
      });
      const second = new ApiClient(server.url, key.body.api_key);
      const secondId = key.body.id;
      const ann = await addMember(api, 'ann@example.com', 'owner');
      const bob = await addMember(second, 'bob@example.com', 'member');
      await second.request('PATCH', `/v1/members/${bob.id}`, { body: { role: 'admin' } });
      await api.request('DELETE', `/v1/members/${bob.id}`);
      await api.request('DELETE', `/v1/keys/${secondId}`);
      const session = await api.createSession();
      expect(session.status).toBe(202);

      const all = await audit(api, '?limit=100');
      expect(all.items.map((a) => [a.action, a.actor, a.target_type, a.target_id])).toEqual([
        ['session.create', keyId, 'session', session.body.id],
        ['key.revoke', keyId, 'api_key', secondId],
        ['member.delete', keyId, 'member', bob.id],
        ['member.update', secondId, 'member', bob.id],
        ['member.create', secondId, 'member', bob.id],
        ['member.create', keyId, 'member', ann.id],
        ['key.create', keyId, 'api_key', secondId],
      ]);
      for (const item of all.items) {
        expect(item.class).toBe('tenant');
        expect(Date.parse(item.at)).not.toBeNaN();
        expect(Object.keys(item).sort()).toEqual(
          ['action', 'actor', 'at', 'class', 'detail', 'id', 'target_id', 'target_type'].sort(),
        );
      }
      const byAction = (action: string) => all.items.find((a) => a.action === action)!.detail;
      expect(byAction('key.create')).toEqual({ scopes: 'keys:admin,audit:read' });
      expect(byAction('member.update')).toEqual({ role: 'admin', previous_role: 'member' });
      expect(byAction('member.delete')).toEqual({ role: 'admin' });
      // Never a secret, a request body's free text, or an email.
      const text = JSON.stringify(all);
      expect(text).not.toContain(key.body.api_key!.split('.')[1]!);
      expect(text).not.toContain('secret-ish');
      expect(text).not.toContain('@example.com');

      const ids = (page: Page<AuditBody>) => page.items.map((a) => a.action);
      expect(ids(await audit(api, `?target=member:${bob.id}`))).toEqual([
        'member.delete',
        'member.update',
        'member.create',
      ]);
      expect(ids(await audit(api, `?target=${bob.id}`))).toHaveLength(3);
      expect(ids(await audit(api, `?target=api_key:${bob.id}`))).toEqual([]);
      expect(ids(await audit(api, `?target=session:${session.body.id}`))).toEqual(['session.create']);
      expect(ids(await audit(api, '?action=member.create'))).toEqual(['member.create', 'member.create']);
      expect(ids(await audit(api, `?actor=${secondId}`))).toEqual(['member.update', 'member.create']);
      expect(
        ids(await audit(api, `?actor=${secondId}&action=member.update&target=member:${bob.id}`)),
      ).toEqual(['member.update']);
      for (const q of ['?target=a:b:c', '?target=', '?cursor=nope', '?limit=0', '?limit=101', '?unknown=1']) {
        expect((await api.request('GET', `/v1/audit${q}`)).status, q).toBe(400);
      }
    });

    it('pages newest first, and a cursor is stable while new rows are inserted', async () => {
      const { api } = await workspace();
      for (let i = 0; i < 7; i++) await addMember(api, `m${i}@example.com`, 'member');
      const snapshot = (await audit(api, '?limit=100')).items.map((a) => a.id);
      expect(snapshot).toHaveLength(7);
      expect([...snapshot].sort().reverse()).toEqual(snapshot);

      const seen: string[] = [];
      let cursor: string | null = null;
      let inserted = 0;
      do {
        const page: Page<AuditBody> = await audit(api, cursor ? `?limit=3&cursor=${cursor}` : '?limit=3');
        seen.push(...page.items.map((a) => a.id));
        cursor = page.next_cursor;
        // New rows arrive between page reads.
        await addMember(api, `new${inserted++}@example.com`, 'member');
      } while (cursor);
      expect(seen).toEqual(snapshot);

      const fresh = (await audit(api, '?limit=100')).items.map((a) => a.id);
      expect(fresh).toHaveLength(7 + inserted);
      expect(fresh.slice(inserted)).toEqual(snapshot);
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
