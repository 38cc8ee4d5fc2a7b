import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { workspaceHelpers, type KeyBody, type AuditBody, type Page } from '../support/workspace-fixtures.ts';

describe('audit log', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  const { workspace, addMember, audit } = workspaceHelpers(() => ({ ctx, server }));

  beforeAll(async () => {
    ctx = await TestContext.create();
    server = await ctx.startApi();
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
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
});
