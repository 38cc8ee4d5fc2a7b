/**
 * IDOR sweep: every id-bearing operation of /openapi.json, called by workspace B (a key with every
 * non-operator scope) with workspace A's real ids, answers 404 (not 403, not 200) and changes nothing
 * of A's; every list B can read names none of A's ids. Operator routes (cross-workspace by design,
 * pools are global) are the scope test's business.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { SCOPES } from '../../core/domain/scopes.ts';
import { newId } from '../../core/domain/ids.ts';
import { operationsOf, type OpenApiDoc } from '../support/openapi-operations.ts';

/** A valid body per operation, so that validation is never why the answer is 404. */
const BODIES: Record<string, unknown> = {
  releaseSession: { status: 'REQUEST_RELEASE' },
  keepAliveSession: { extend_seconds: 600 },
  createProfileVersion: { storage_state: { cookies: [] } },
  updateMember: { role: 'member' },
  snapshotSessionProfile: { name: 'stolen' },
};

describe('IDOR sweep: another workspace’s ids are 404 on every id-bearing route', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let ids: Record<string, string>;
  let victimWs: string;
  let attacker: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 20, env: { VENTUS_RATE_LIMIT_PER_MINUTE: '1000000' } });
    server = await ctx.startApi();
    const everything = SCOPES.filter((s) => s !== 'operator');
    const victim = await ctx.seedKey(everything);
    victimWs = victim.workspaceId;
    const a = new ApiClient(server.url, victim.apiKey);
    const session = await a.createSession({ recording: { enabled: true } });
    const profile = await a.request<{ id: string }>('POST', '/v1/profiles', {
      body: { name: 'victim', storage_state: { cookies: [] } },
    });
    const key = await a.request<{ id: string }>('POST', '/v1/keys', { body: { scopes: ['sessions:read'] } });
    const member = await a.request<{ id: string }>('POST', '/v1/members', {
      body: { email: 'victim@example.com', role: 'owner' },
    });
    for (const r of [profile, key, member]) expect(r.status, JSON.stringify(r.body)).toBe(201);
    ids = {
      sessions: session.body.id,
      profiles: profile.body.id,
      keys: key.body.id,
      members: member.body.id,
    };
    attacker = new ApiClient(server.url, (await ctx.seedKey(everything)).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  async function victimState(): Promise<string> {
    const q = (sql: string) => ctx.db.query(sql, [victimWs]).then((r) => r.rows as unknown[]);
    return JSON.stringify([
      await q('SELECT id, status, expires_at FROM sessions WHERE workspace_id = $1 ORDER BY id'),
      await q(
        'SELECT p.id, p.deleted_at, count(v.*) FROM profiles p LEFT JOIN profile_versions v ON v.profile_id = p.id WHERE p.workspace_id = $1 GROUP BY p.id',
      ),
      await q('SELECT id, revoked_at FROM api_keys WHERE workspace_id = $1 ORDER BY id'),
      await q('SELECT id, role FROM members WHERE workspace_id = $1 ORDER BY id'),
      await q('SELECT count(*) FROM audit_log WHERE workspace_id = $1'),
    ]);
  }

  it('answers 404 problems with A’s ids for every id-bearing operation of B, changing nothing', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApiDoc;
    const idBearing = operationsOf(doc).filter(
      (op) => op.path.startsWith('/v1/') && op.path.includes('{') && !op.scopes.includes('operator'),
    );
    expect(idBearing.length).toBeGreaterThanOrEqual(12);
    const before = await victimState();
    for (const op of idBearing) {
      const resource = /^\/v1\/([a-z-]+)\//.exec(op.path)![1]!;
      const id = ids[resource];
      expect(
        id,
        `no id of resource '${resource}' for ${op.operationId}: add one to this sweep`,
      ).toBeDefined();
      const path = op.path.replace('{id}', id!).replace('{n}', '1');
      const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : (BODIES[op.operationId] ?? {});
      const res = await attacker.request(op.method, path, {
        ...(body !== undefined && { body }),
        headers: { 'x-reason': 'idor sweep of workspace A', 'idempotency-key': newId(), 'if-match': '"1"' },
      });
      expect(res.status, `${op.method} ${path} -> ${JSON.stringify(res.body)}`).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      // The problem names no detail of A's resource beyond the id B sent.
      expect(JSON.stringify(res.body)).not.toMatch(/victim/);
    }
    expect(await victimState()).toBe(before);
  });

  it('no list B can read contains any of A’s ids, whatever the filters', async () => {
    const all = Object.values(ids);
    const lists = [
      '/v1/sessions',
      '/v1/sessions?limit=100',
      `/v1/sessions?label=x`,
      '/v1/profiles',
      '/v1/keys',
      '/v1/members',
      '/v1/audit',
      `/v1/audit?target_id=${ids.sessions}`,
      `/v1/audit?actor=${ids.keys}`,
    ];
    for (const path of lists) {
      const res = await fetch(`${server.url}${path}`, {
        headers: { authorization: `Bearer ${attacker.apiKey}` },
      });
      const text = await res.text();
      expect(res.status, `${path} -> ${text}`).toBeLessThan(500);
      for (const id of all) expect(text, `${path} leaks ${id}`).not.toContain(id);
    }
  });

  it('B cannot start a session from A’s profile (422, not A’s storage state)', async () => {
    const res = await attacker.createSession({ profile_id: ids.profiles });
    expect(res.status).toBe(422);
    expect(String(res.body.detail)).toContain('no such profile in this workspace');
  });
});
