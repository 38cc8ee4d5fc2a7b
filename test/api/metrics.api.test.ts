import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { OpenApiContract } from '../support/openapi-contract.ts';
import { RawCdp } from '../runtime/raw-cdp.client.ts';
import { parseExposition, scrape, scrapeUntil, value, type Exposition } from '../support/prometheus-text.ts';
import type { Stack } from '../../stack/stack.ts';

const POOL = 'us-east1-chromium';
const pool = { pool: POOL };
const count = (e: Exposition, name: string, labels: Record<string, string>) =>
  value(e, `${name}_count`, labels) ?? 0;

describe('/metrics on a started stack (one registry for broker, workers, controller, proxy)', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 1, maxTotal: 2 });
    stack = await ctx.startStack();
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
  });

  it('is Prometheus text, documented in /openapi.json, with HELP and TYPE for every ventus_ metric', async () => {
    const res = await fetch(`${stack.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    const contract = await OpenApiContract.load(stack.url);
    expect(contract.check('GET', res.url, 200, res.headers, text)).toEqual([]);
    const expo = parseExposition(text);
    const names = [...expo.types.keys()].filter((n) => n.startsWith('ventus_'));
    expect(names).toEqual(
      expect.arrayContaining([
        'ventus_pool_ready',
        'ventus_pool_warming',
        'ventus_pool_held',
        'ventus_pool_admitted',
        'ventus_pool_max_total',
        'ventus_pool_min_ready',
        'ventus_queue_jobs',
        'ventus_admissions_total',
        'ventus_insufficient_capacity_total',
        'ventus_claim_seconds',
        'ventus_time_to_running_seconds',
        'ventus_job_wait_seconds',
        'ventus_job_duration_seconds',
        'ventus_cdp_connections',
        'ventus_cdp_connections_total',
        'ventus_cdp_refused_total',
        'ventus_cdp_bytes_total',
        'ventus_pod_start_seconds',
        'ventus_orphans_reaped_total',
        'ventus_metrics_collect_failures_total',
      ]),
    );
    for (const name of names) expect(expo.help.get(name), name).toMatch(/\w/);
    // Node's default metrics share the registry.
    expect(expo.types.get('process_cpu_user_seconds_total')).toBe('counter');
  });

  it('reports the pool from Postgres and Redis at scrape time', async () => {
    const expo = await scrapeUntil(stack.url, (e) => value(e, 'ventus_pool_ready', pool) === 1, 60_000);
    expect(value(expo, 'ventus_pool_max_total', pool)).toBe(2);
    expect(value(expo, 'ventus_pool_min_ready', pool)).toBe(1);
    expect(value(expo, 'ventus_pool_admitted', pool)).toBe(0);
    expect(value(expo, 'ventus_pool_held', pool)).toBe(0);
    for (const queue of ['provision', 'lifecycle'])
      for (const state of ['waiting', 'delayed', 'active', 'failed'])
        expect(value(expo, 'ventus_queue_jobs', { queue, state }), `${queue} ${state}`).toBe(0);
  });

  it('a warm claim: admission, claim and time-to-RUNNING, job latency, pool gauges, CDP traffic', async () => {
    const created = await api.createSession({ keep_alive_seconds: 0 });
    expect(created.status).toBe(202);
    const running = await api.waitFor(created.body.id, ['RUNNING']);
    // The expire job is enqueued with the RUNNING transition; the provision job's own figures land
    // when it returns, a moment after RUNNING is visible.
    const provisionDone = { queue: 'provision', job: 'provision', outcome: 'completed' };
    let expo = await scrapeUntil(
      stack.url,
      (e) =>
        value(e, 'ventus_queue_jobs', { queue: 'lifecycle', state: 'delayed' }) === 1 &&
        count(e, 'ventus_job_duration_seconds', provisionDone) === 1,
    );
    expect(value(expo, 'ventus_admissions_total', { ...pool, outcome: 'admitted' })).toBe(1);
    expect(value(expo, 'ventus_admissions_total', { ...pool, outcome: 'full' })).toBeUndefined();
    expect(count(expo, 'ventus_claim_seconds', { ...pool, kind: 'warm' })).toBe(1);
    expect(count(expo, 'ventus_claim_seconds', { ...pool, kind: 'cold' })).toBe(0);
    expect(count(expo, 'ventus_time_to_running_seconds', { ...pool, kind: 'warm' })).toBe(1);
    expect(value(expo, 'ventus_time_to_running_seconds_sum', { ...pool, kind: 'warm' })).toBeGreaterThan(0);
    expect(count(expo, 'ventus_job_wait_seconds', { queue: 'provision', job: 'provision' })).toBe(1);
    expect(count(expo, 'ventus_job_duration_seconds', provisionDone)).toBe(1);
    expect(value(expo, 'ventus_pool_admitted', pool)).toBe(1);
    expect(value(expo, 'ventus_pool_held', pool)).toBe(1);

    const cdp = await RawCdp.connect(running.connect_url);
    const version = await cdp.send<{ product: string }>('Browser.getVersion');
    expect(version.product).toMatch(/Chrome/);
    const sent = JSON.stringify({ id: 1, method: 'Browser.getVersion', params: {} }).length;
    // The kernel relay reports the bytes it moved each second (runtime-image/agent/kernel-relay.c).
    expo = await scrapeUntil(
      stack.url,
      (e) =>
        (value(e, 'ventus_cdp_bytes_total', { direction: 'pod_to_client' }) ?? 0) > version.product.length,
    );
    expect(value(expo, 'ventus_cdp_connections')).toBe(1);
    expect(value(expo, 'ventus_cdp_connections_total')).toBe(1);
    expect(value(expo, 'ventus_cdp_bytes_total', { direction: 'client_to_pod' })).toBeGreaterThan(sent);
    expect(value(expo, 'ventus_cdp_bytes_total', { direction: 'pod_to_client' })).toBeGreaterThan(
      version.product.length,
    );

    // keep_alive_seconds = 0: the last disconnect ends the session, teardown frees its slot.
    cdp.close();
    await api.waitFor(running.id, ['COMPLETED']);
    // The teardown frees the slot, then returns: its job figures land a moment after.
    const teardownDone = { queue: 'lifecycle', job: 'teardown', outcome: 'completed' };
    expo = await scrapeUntil(
      stack.url,
      (e) =>
        value(e, 'ventus_pool_admitted', pool) === 0 &&
        count(e, 'ventus_job_duration_seconds', teardownDone) === 1,
    );
    expect(value(expo, 'ventus_cdp_connections')).toBe(0);
    expect(value(expo, 'ventus_pool_held', pool)).toBe(0);
    expect(count(expo, 'ventus_job_duration_seconds', teardownDone)).toBe(1);
  });

  it('a cold start when no warm pod is left: claim and pod start by kind cold', async () => {
    await ctx.db.query('UPDATE pools SET min_ready = 0 WHERE name = $1', [POOL]);
    await scrapeUntil(
      stack.url,
      (e) =>
        value(e, 'ventus_pool_min_ready', pool) === 0 &&
        value(e, 'ventus_pool_ready', pool) === 0 &&
        value(e, 'ventus_pool_warming', pool) === 0,
      60_000,
    );
    const created = await api.createSession({ keep_alive_seconds: 60 });
    await api.waitFor(created.body.id, ['RUNNING']);
    const expo = await scrape(stack.url);
    expect(value(expo, 'ventus_admissions_total', { ...pool, outcome: 'admitted' })).toBe(2);
    expect(count(expo, 'ventus_claim_seconds', { ...pool, kind: 'cold' })).toBe(1);
    expect(count(expo, 'ventus_claim_seconds', { ...pool, kind: 'warm' })).toBe(1);
    expect(count(expo, 'ventus_pod_start_seconds', { ...pool, kind: 'cold' })).toBe(1);
    expect(count(expo, 'ventus_time_to_running_seconds', { ...pool, kind: 'cold' })).toBe(1);
    expect(value(expo, 'ventus_pool_held', pool)).toBe(1);
    expect((await api.release(created.body.id)).status).toBe(200);
  });
});

describe('/metrics when the pool is full (max_total 0)', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let api: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 0, maxTotal: 0 });
    server = await ctx.startApi();
    api = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('counts the refused admission and the 503', async () => {
    const refused = await api.createSession();
    expect(refused.status).toBe(503);
    const expo = await scrape(server.url);
    expect(value(expo, 'ventus_admissions_total', { ...pool, outcome: 'full' })).toBe(1);
    expect(value(expo, 'ventus_admissions_total', { ...pool, outcome: 'admitted' })).toBeUndefined();
    expect(value(expo, 'ventus_insufficient_capacity_total', pool)).toBe(1);
    expect(value(expo, 'ventus_pool_max_total', pool)).toBe(0);
    expect(value(expo, 'ventus_pool_admitted', pool)).toBe(0);
  });
});
