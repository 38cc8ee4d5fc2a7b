import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import type { Stack } from '../../stack/stack.ts';
import { SPEC } from './spec-sentences.ts';

interface AuditItem {
  id: string;
  class: string;
  actor: string;
  action: string;
  target_id: string;
  detail: Record<string, string | number | boolean | null>;
}
interface Page<T> {
  items: T[];
  next_cursor: string | null;
  has_more: boolean;
}

describe(SPEC.auditReplay, () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 1, maxTotal: 2 });
    stack = await ctx.startStack();
    const { apiKey } = await ctx.seedKey(['sessions:read', 'sessions:write', 'audit:read']);
    api = new ApiClient(stack.url, apiKey);
  });
  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
  });

  it('QUEUED → PROVISIONING → RUNNING → COMPLETED, each with actor and reason, from /v1/audit alone', async () => {
    const created = await api.createSession();
    await api.waitFor(created.body.id, ['RUNNING']);
    await api.release(created.body.id);

    // Read the audit log page by page (2 rows a page) exactly as a client would, oldest row last.
    const rows: AuditItem[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `target=session:${created.body.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api.request<Page<AuditItem>>('GET', `/v1/audit?${query}`);
      expect(page.status).toBe(200);
      rows.push(...page.body.items);
      cursor = page.body.next_cursor;
      expect(page.body.has_more).toBe(cursor !== null);
    } while (cursor);

    // Replay: fold the rows (oldest first) into the session's history.
    const history = rows.reverse().map((r) => [r.detail.from, r.detail.to, r.detail.reason, r.class]);
    expect(history).toEqual([
      [null, 'QUEUED', null, 'tenant'],
      ['QUEUED', 'PROVISIONING', null, 'system'],
      ['PROVISIONING', 'RUNNING', null, 'system'],
      ['RUNNING', 'COMPLETED', 'client_release', 'tenant'],
    ]);
    const keyId = (api.apiKey ?? '').slice(3, (api.apiKey ?? '').indexOf('.'));
    expect(rows[0]!.actor).toBe(keyId);
    expect(rows[1]!.actor).toBe('workers');
    expect(rows[3]!.actor).toBe(keyId);

    // ...and it is the same history as the transitions list.
    const transitions = await api.request<Page<{ from: string | null; to: string; reason: string | null }>>(
      'GET',
      `/v1/sessions/${created.body.id}/transitions`,
    );
    expect(transitions.body.items.map((t) => [t.from, t.to, t.reason])).toEqual(
      history.map(([from, to, reason]) => [from, to, reason]),
    );
  });
});
