import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { document, usePoolsCli } from '../support/pools-cli.harness.ts';
import { buildPodManifest, withPoolTemplate } from '../../core/runtime/kubernetes/pod-manifest.ts';
import { SPEC } from './spec-sentences.ts';

interface PoolBody {
  name: string;
  runtime_kind: string;
  min_ready: number;
  max_total: number;
  retired_at: string | null;
  pod_template: Record<string, unknown>;
}

const RDA_POOL = {
  region: 'us-east1',
  runtime_kind: 'rda',
  min_ready: 0,
  max_total: 3,
  pod_template: {
    image: 'registry.example.com/ventus/rda-runtime:1.0',
    node_selector: { 'node.kubernetes.io/windows-build': '10.0.20348' },
  },
};

describe(SPEC.rdaRuntime, () => {
  describe('on the kubernetes driver, an operator runs rda sessions', () => {
    let ctx: TestContext;
    let server: Awaited<ReturnType<TestContext['startApi']>>;
    let operator: ApiClient;
    let tenant: ApiClient;

    beforeAll(async () => {
      // Only the broker runs here: the driver setting decides which pools it accepts.
      ctx = await TestContext.create({
        env: { VENTUS_DRIVER: 'kubernetes', VENTUS_K8S_IMAGE: 'ventus/runtime:test' },
      });
      server = await ctx.startApi();
      operator = new ApiClient(server.url, (await ctx.seedKey(['operator'])).apiKey);
      tenant = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
    });
    afterAll(async () => {
      await server?.close();
      await ctx?.close();
    });

    it('before an rda pool exists, rda sessions are 422; the pool needs its own image', async () => {
      expect((await tenant.createSession({ runtime_kind: 'rda' })).status).toBe(422);
      const noImage = await operator.request('POST', '/v1/pools', {
        body: { ...RDA_POOL, pod_template: {} },
      });
      expect(noImage.status).toBe(422);
      expect(String(noImage.body.detail)).toContain('pod_template.image');
    });

    it('create, list, change, use, retire and revive an rda pool', async () => {
      const created = await operator.request<PoolBody>('POST', '/v1/pools', { body: RDA_POOL });
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe('/v1/pools/us-east1-rda');
      expect(created.body).toMatchObject({
        name: 'us-east1-rda',
        runtime_kind: 'rda',
        pod_template: RDA_POOL.pod_template,
        retired_at: null,
      });
      expect((await operator.request('POST', '/v1/pools', { body: RDA_POOL })).status).toBe(409);
      const listed = await operator.request<{ items: PoolBody[] }>('GET', '/v1/pools');
      expect(listed.body.items.map((p) => p.name)).toEqual(['us-east1-chromium', 'us-east1-rda']);
      const changed = await operator.request<PoolBody>('PATCH', '/v1/pools/us-east1-rda', {
        body: { max_total: 5 },
      });
      expect(changed.body.max_total).toBe(5);

      const session = await tenant.createSession({ runtime_kind: 'rda' });
      expect(session.status).toBe(202);
      expect(session.body.runtime_kind).toBe('rda');
      // storage_state stays refused for rda.
      const withState = await tenant.createSession({ runtime_kind: 'rda', storage_state: { cookies: [] } });
      expect(withState.status).toBe(422);
      expect(String(withState.body.detail)).toContain('storage_state');
      await tenant.release(session.body.id);

      expect((await operator.request('DELETE', '/v1/pools/us-east1-rda')).status).toBe(204);
      const retired = await operator.request<PoolBody>('GET', '/v1/pools/us-east1-rda');
      expect(retired.body).toMatchObject({ min_ready: 0, max_total: 0 });
      expect(retired.body.retired_at).not.toBeNull();
      const refused = await tenant.createSession({ runtime_kind: 'rda' });
      expect(refused.status).toBe(422);
      expect(String(refused.body.detail)).toContain('retired');
      expect(
        (await operator.request('PATCH', '/v1/pools/us-east1-rda', { body: { min_ready: 1 } })).status,
      ).toBe(409);
      expect((await operator.request('DELETE', '/v1/pools/us-east1-rda')).status).toBe(409);
      const revived = await operator.request<PoolBody>('POST', '/v1/pools', { body: RDA_POOL });
      expect(revived.status).toBe(201);
      expect(revived.body.retired_at).toBeNull();

      const audit = await ctx.db.query<{ action: string }>(
        "SELECT action FROM audit_log WHERE target_type = 'pool' AND target_id = 'us-east1-rda' ORDER BY id",
      );
      expect(audit.rows.map((r) => r.action)).toEqual([
        'pool.created',
        'pool.updated',
        'pool.retired',
        'pool.created',
      ]);
    });

    it("the kubernetes driver shapes an rda Pod from the pool's template: its image, on Windows nodes", () => {
      const spec = {
        id: '01JC1AMQX4N3PWV9MR2BCKDH7E',
        pool: 'us-east1-rda',
        headless: false,
        runtimeKind: 'rda' as const,
      };
      const template = withPoolTemplate({ image: 'ventus/runtime:test' }, RDA_POOL.pod_template);
      const pod = buildPodManifest(spec, template, { egress: { allow: [], allowPrivate: false } });
      expect(pod.spec!.os).toEqual({ name: 'windows' });
      expect(pod.spec!.nodeSelector).toEqual({
        'kubernetes.io/os': 'windows',
        'node.kubernetes.io/windows-build': '10.0.20348',
      });
      expect(pod.spec!.containers[0]!.image).toBe(RDA_POOL.pod_template.image);
      expect(pod.spec!.securityContext?.windowsOptions?.runAsUserName).toBe('ContainerUser');
      // Linux-only fields a Windows Pod must not carry.
      expect(pod.spec!.hostUsers).toBeUndefined();
      expect(pod.spec!.securityContext?.seccompProfile).toBeUndefined();
      // The agent's secret still reaches the container from its Secret, never the Pod object.
      const secretEnv = pod.spec!.containers[0]!.env!.find((e) => e.valueFrom?.secretKeyRef);
      expect(secretEnv?.valueFrom?.secretKeyRef?.name).toBe('ventus-01jc1amqx4n3pwv9mr2bckdh7e-agent');
      // A chromium Pod keeps its Linux shape.
      const chromium = buildPodManifest({ ...spec, runtimeKind: 'chromium' }, template, {
        egress: { allow: [], allowPrivate: false },
      });
      expect(chromium.spec!.os).toBeUndefined();
      expect(chromium.spec!.hostUsers).toBe(false);
    });
  });

  describe('drivers that cannot run a runtime kind refuse its pool', () => {
    let ctx: TestContext;
    let server: Awaited<ReturnType<TestContext['startApi']>>;

    beforeAll(async () => {
      ctx = await TestContext.create(); // the local driver
      server = await ctx.startApi();
    });
    afterAll(async () => {
      await server?.close();
      await ctx?.close();
    });

    it('the local driver: an rda pool is a 422 problem naming the driver that can', async () => {
      const operator = new ApiClient(server.url, (await ctx.seedKey(['operator'])).apiKey);
      const res = await operator.request('POST', '/v1/pools', { body: RDA_POOL });
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.detail).toBe(
        "The local driver cannot run runtime_kind 'rda' (it runs chromium); rda pools need VENTUS_DRIVER=kubernetes",
      );
      // ...while a chromium pool in another region is fine.
      const other = await operator.request('POST', '/v1/pools', {
        body: { region: 'europe-west1', runtime_kind: 'chromium', min_ready: 0, max_total: 2 },
      });
      expect(other.status).toBe(201);
    });
  });

  describe('the CLI: ventus pools create / retire', () => {
    const h = usePoolsCli();

    it('creates and retires pools; refuses rda on the local driver', async () => {
      await h.expectRefusals([
        [
          ['create', 'us-east1', 'rda', '--min-ready', '0', '--max-total', '2'],
          "cannot run runtime_kind 'rda'",
        ],
        [
          ['create', 'us-east1', 'firefox', '--min-ready', '0', '--max-total', '2'],
          'expected chromium or rda',
        ],
        [['create', 'us-west2', 'chromium', '--max-total', '2'], 'needs --min-ready and --max-total'],
        [['create', 'us-east1', 'chromium', '--min-ready', '0', '--max-total', '2'], 'exists'],
        [['retire', 'nowhere-chromium'], 'no live pool named nowhere-chromium'],
      ]);
      const created = document<{ name: string; max_total: number }>(
        await h.ventus('create', 'us-west2', 'chromium', '--min-ready', '0', '--max-total', '3', '--json'),
      );
      expect(created).toMatchObject({ name: 'us-west2-chromium', max_total: 3 });
      const retired = document<{ name: string; max_total: number }>(
        await h.ventus('retire', 'us-west2-chromium', '--json'),
      );
      expect(retired).toMatchObject({ name: 'us-west2-chromium', max_total: 0 });
      const { rows } = await h.ctx.db.query<{ actor: string; action: string }>(
        "SELECT actor, action FROM audit_log WHERE target_id = 'us-west2-chromium' ORDER BY id",
      );
      expect(rows).toEqual([
        { actor: 'cli', action: 'pool.created' },
        { actor: 'cli', action: 'pool.retired' },
      ]);
    });
  });
});
