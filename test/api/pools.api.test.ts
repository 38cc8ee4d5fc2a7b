import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';

interface PoolBody {
  name: string;
  region: string;
  runtime_kind: string;
  min_ready: number;
  max_total: number;
  max_starting: number | null;
  updated_at: string;
  status: Record<string, number | null>;
}
interface AuditItem {
  action: string;
  actor: string;
  class: string;
  target_id: string;
  detail: Record<string, unknown>;
}

const POOL = 'us-east1-chromium';

describe('pools API (operator)', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let operator: ApiClient;
  let operatorKeyId: string;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 1, maxTotal: 3 });
    server = await ctx.startApi();
    const { apiKey } = await ctx.seedKey(['operator']);
    operator = new ApiClient(server.url, apiKey);
    operatorKeyId = apiKey.slice(3, apiKey.indexOf('.'));
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('lists and gets pools with their settings and live figures', async () => {
    const list = await operator.request<{ items: PoolBody[] }>('GET', '/v1/pools');
    expect(list.status).toBe(200);
    expect(list.body.items.map((p) => p.name)).toEqual([POOL]);
    const one = await operator.request<PoolBody>('GET', `/v1/pools/${POOL}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      name: POOL,
      region: 'us-east1',
      runtime_kind: 'chromium',
      min_ready: 1,
      max_total: 3,
      max_starting: null,
      status: { ready: 0, warming: 0, admitted: 0, queued: 0, held: 0, warmup_ms: null },
    });
  });

  it('counts an admitted session in the live figures', async () => {
    const { apiKey } = await ctx.seedKey();
    const tenant = new ApiClient(server.url, apiKey);
    const created = await tenant.createSession();
    expect(created.status).toBe(202);
    const one = await operator.request<PoolBody>('GET', `/v1/pools/${POOL}`);
    expect(one.body.status).toMatchObject({ admitted: 1, queued: 1, held: 0 });
    await tenant.request('PATCH', `/v1/sessions/${created.body.id}`, { body: { status: 'REQUEST_RELEASE' } });
  });

  it('changes settings live, returns the new pool and audits who changed what', async () => {
    const patched = await operator.request<PoolBody>('PATCH', `/v1/pools/${POOL}`, {
      body: { min_ready: 2, max_total: 8, max_starting: 3 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ min_ready: 2, max_total: 8, max_starting: 3 });
    expect((await operator.request<PoolBody>('GET', `/v1/pools/${POOL}`)).body.max_total).toBe(8);

    const cleared = await operator.request<PoolBody>('PATCH', `/v1/pools/${POOL}`, {
      body: { max_starting: null },
    });
    expect(cleared.body).toMatchObject({ min_ready: 2, max_total: 8, max_starting: null });

    const audit = await operator.request<{ items: AuditItem[] }>('GET', '/v1/audit?action=pool.updated');
    expect(audit.status).toBe(200);
    const [latest, first] = audit.body.items;
    expect(latest).toMatchObject({ actor: operatorKeyId, class: 'admin', target_id: POOL });
    expect(latest!.detail).toEqual({
      min_ready: 2,
      max_total: 8,
      max_starting: null,
      previous_min_ready: 2,
      previous_max_total: 8,
      previous_max_starting: 3,
      pod_template_changed: false,
    });
    expect(first!.detail).toMatchObject({ previous_min_ready: 1, previous_max_total: 3 });
  });

  it('sets a pod template for the pool (kubernetes driver), replaced whole, and validates it', async () => {
    const template = {
      image: 'registry.example/ventus/runtime:1.2.3',
      resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } },
      node_selector: { 'ventus.io/browsers': 'true' },
      tolerations: [{ key: 'browsers', operator: 'Exists', effect: 'NoSchedule' }],
      runtime_class: 'gvisor',
    };
    const set = await operator.request<PoolBody & { pod_template: unknown }>('PATCH', `/v1/pools/${POOL}`, {
      body: { pod_template: template },
    });
    expect(set.status).toBe(200);
    expect(set.body.pod_template).toEqual(template);
    const audit = await operator.request<{ items: AuditItem[] }>('GET', '/v1/audit?action=pool.updated');
    expect(audit.body.items[0]!.detail).toMatchObject({ pod_template_changed: true });
    for (const bad of [
      { image: 'has space' },
      { resources: { requests: { cpu: 'lots' } } },
      { privileged: true },
    ]) {
      const res = await operator.request('PATCH', `/v1/pools/${POOL}`, { body: { pod_template: bad } });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    const cleared = await operator.request<{ pod_template: unknown }>('PATCH', `/v1/pools/${POOL}`, {
      body: { pod_template: {} },
    });
    expect(cleared.body.pod_template).toEqual({});
  });

  it('refuses min_ready above max_total with 422 and changes nothing', async () => {
    const before = (await operator.request<PoolBody>('GET', `/v1/pools/${POOL}`)).body;
    const res = await operator.request<{ type: string; detail: string }>('PATCH', `/v1/pools/${POOL}`, {
      body: { min_ready: 9 },
    });
    expect(res.status).toBe(422);
    expect(res.body.detail).toBe('min_ready (9) cannot exceed max_total (8)');
    const after = (await operator.request<PoolBody>('GET', `/v1/pools/${POOL}`)).body;
    expect(after).toEqual({ ...before, status: after.status });
  });

  it('answers bad input with 400 problem documents', async () => {
    for (const body of [{}, { min_ready: -1 }, { max_total: 1.5 }, { max_starting: 0 }, { region: 'x' }]) {
      const res = await operator.request('PATCH', `/v1/pools/${POOL}`, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('answers 404 for an unknown pool and 403 without the operator scope', async () => {
    expect((await operator.request('GET', '/v1/pools/eu-west9-chromium')).status).toBe(404);
    expect(
      (await operator.request('PATCH', '/v1/pools/eu-west9-chromium', { body: { min_ready: 1 } })).status,
    ).toBe(404);
    const { apiKey } = await ctx.seedKey(['sessions:read', 'sessions:write', 'keys:admin', 'audit:read']);
    const tenant = new ApiClient(server.url, apiKey);
    expect((await tenant.request('GET', '/v1/pools')).status).toBe(403);
    expect((await tenant.request('GET', `/v1/pools/${POOL}`)).status).toBe(403);
    expect((await tenant.request('PATCH', `/v1/pools/${POOL}`, { body: { min_ready: 0 } })).status).toBe(403);
  });
});
