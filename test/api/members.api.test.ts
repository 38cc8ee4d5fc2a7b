import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { workspaceHelpers, type KeyBody, type MemberBody, type Page } from '../support/workspace-fixtures.ts';

describe('members, scopes and workspace isolation', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  const { workspace, addMember, createKey, audit } = workspaceHelpers(() => ({ ctx, server }));

  beforeAll(async () => {
    ctx = await TestContext.create();
    server = await ctx.startApi();
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
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
      expect(dup.body.type).toMatch(/\/errors\/state-conflict$/);
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
      expect(demote.body.type).toMatch(/\/errors\/state-conflict$/);
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
          expect(res.body.type).toMatch(/\/errors\/forbidden$/);
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
});
