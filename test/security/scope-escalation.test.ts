/**
 * Scope escalation, on every operation /openapi.json lists (a new route is covered the day it is
 * added): a key lacking the route's scope gets a 403 problem before its request is even validated,
 * no key at all gets 401, operator-only routes refuse every plain key, and a key cannot mint a key
 * with more than it holds. Nothing changes in Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { SCOPES } from '../../core/domain/scopes.ts';
import { newId } from '../../core/domain/ids.ts';
import { operationsOf, type OpenApiDoc, type Operation } from '../support/openapi-operations.ts';

describe('scope escalation on every route of /openapi.json', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let ops: Operation[];
  let sessionId: string;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 20, env: { VENTUS_RATE_LIMIT_PER_MINUTE: '1000000' } });
    server = await ctx.startApi();
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApiDoc;
    ops = operationsOf(doc);
    sessionId = (await new ApiClient(server.url, (await ctx.seedKey()).apiKey).createSession()).body.id;
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  async function snapshot(): Promise<string> {
    const { rows } = await ctx.db.query(
      `SELECT (SELECT count(*) FROM sessions) s, (SELECT string_agg(status, ',') FROM sessions) st,
              (SELECT count(*) FROM api_keys) k, (SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL) r,
              (SELECT count(*) FROM members) m, (SELECT count(*) FROM profiles) p,
              (SELECT count(*) FROM audit_log) a, (SELECT string_agg(min_ready || '/' || max_total, ',') FROM pools) pl`,
    );
    return JSON.stringify(rows[0]);
  }

  /** Calls `op` as a user who knows what it wants: real-looking ids, a JSON body, the headers it names. */
  function call(op: Operation, apiKey: string | undefined) {
    const path = op.path
      .replace('{id}', sessionId)
      .replace('{n}', '1')
      .replace('{name}', 'us-east1-chromium');
    const headers: Record<string, string> = {
      'idempotency-key': newId(),
      'x-reason': 'security scope sweep',
      'if-match': '"1"',
    };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    if (op.hasBody || op.method === 'POST' || op.method === 'PATCH')
      headers['content-type'] = 'application/json';
    const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : '{}';
    return fetch(`${server.url}${path}`, { method: op.method, headers, body });
  }

  it('every /v1 operation is authenticated and names the scope it requires', () => {
    const v1 = ops.filter((op) => op.path.startsWith('/v1/'));
    expect(v1.length).toBeGreaterThanOrEqual(25);
    for (const op of v1) {
      expect(op.authenticated, `${op.method} ${op.path} is not authenticated`).toBe(true);
      expect(op.scopes.length, `${op.method} ${op.path} names no scope`).toBeGreaterThan(0);
      for (const s of op.scopes) expect(SCOPES, `${op.operationId}: ${s}`).toContain(s);
    }
    // Off /v1 only the probes, the metrics and the signed-URL targets answer without a key.
    for (const op of ops.filter((o) => !o.path.startsWith('/v1/')))
      expect(op.path, op.operationId).toMatch(/^\/(healthz|readyz|metrics|recordings\/\{id\}|v\/\{\w+\})/);
  });

  it('a key lacking the scope gets 403 on every operation; no key gets 401; nothing changes', async () => {
    const before = await snapshot();
    let tried = 0;
    for (const op of ops.filter((o) => o.path.startsWith('/v1/'))) {
      const held = SCOPES.filter((s) => s !== 'operator' && !op.scopes.includes(s));
      const { apiKey } = await ctx.seedKey(held);
      const res = await call(op, apiKey);
      const text = await res.text();
      expect(res.status, `${op.method} ${op.path} with [${held.join(',')}] -> ${text}`).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(text)).toMatchObject({ status: 403 });
      expect((JSON.parse(text) as { type: string }).type).toMatch(/forbidden$/);
      const anonymous = await call(op, undefined);
      expect(anonymous.status, `${op.method} ${op.path} without a key`).toBe(401);
      tried += 2;
    }
    expect(tried).toBeGreaterThanOrEqual(50);
    // Keys were seeded above; compare everything else.
    const strip = (s: string) => s.replace(/"k":"?\d+"?/, '');
    expect(strip(await snapshot())).toBe(strip(before));
  });

  it('operator-only routes refuse a key holding every other scope', async () => {
    const operatorOnly = ops.filter((o) => o.scopes.length === 1 && o.scopes[0] === 'operator');
    expect(operatorOnly.map((o) => o.operationId)).toEqual(
      expect.arrayContaining(['forceStopSession', 'listPools', 'getPool', 'updatePool']),
    );
    const { apiKey } = await ctx.seedKey(SCOPES.filter((s) => s !== 'operator'));
    for (const op of operatorOnly) expect((await call(op, apiKey)).status, op.operationId).toBe(403);
  });

  it('a key can mint only scopes it holds, and never operator', async () => {
    const admin = new ApiClient(server.url, (await ctx.seedKey(['keys:admin', 'sessions:read'])).apiKey);
    for (const scopes of [
      ['operator'],
      ['sessions:write'],
      ['audit:read'],
      ['sessions:read', 'profiles:write'],
    ]) {
      const res = await admin.request('POST', '/v1/keys', { body: { scopes } });
      expect(res.status, JSON.stringify(scopes)).toBe(403);
    }
    const operatorKey = new ApiClient(server.url, (await ctx.seedKey(['operator'])).apiKey);
    expect((await operatorKey.request('POST', '/v1/keys', { body: { scopes: ['operator'] } })).status).toBe(
      403,
    );
    expect((await admin.request('POST', '/v1/keys', { body: { scopes: ['sessions:read'] } })).status).toBe(
      201,
    );
  });
});
