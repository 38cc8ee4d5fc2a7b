/**
 * The whole stack (broker, proxy, workers, pool controller) with VENTUS_DRIVER=kubernetes against the
 * in-repo Kubernetes API double, whose kubelet runs real headless Chromium: a session's browser is a
 * Pod created through the API, Playwright drives it over the proxy, and the Pod is deleted through
 * the API when the client disconnects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { serveLocalSite, type LocalSite } from '../support/local-page.ts';
import { kubernetesStackEnv, type KubernetesStackEnv } from '../support/k8s-api-double/stack-env.ts';
import { agentSecretName, podName } from '../../core/runtime/kubernetes/pod-manifest.ts';
import type { Stack } from '../../stack/stack.ts';

describe('a real browser session on the kubernetes driver (API double)', { timeout: 120_000 }, () => {
  let k8s: KubernetesStackEnv;
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;
  let site: LocalSite;

  beforeAll(async () => {
    k8s = await kubernetesStackEnv();
    site = await serveLocalSite();
    // The test page is on loopback: the operator's allow-list reaches every Pod's agent.
    const egress = { VENTUS_EGRESS_ALLOW: new URL(site.url).host };
    ctx = await TestContext.create({ minReady: 1, maxTotal: 3, env: { ...k8s.env, ...egress } });
    stack = await ctx.startStack();
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
  });

  afterAll(async () => {
    await site?.close();
    await stack?.close();
    await k8s?.close();
    await ctx?.close();
  });

  it('create -> RUNNING -> connectOverCDP -> title -> disconnect -> COMPLETED (cdp_disconnect), Pod gone', async () => {
    expect(stack.driver.kind).toBe('kubernetes');
    const pods = () => k8s.double.store.list('pods', k8s.namespace, []);
    // min_ready 1: the pool controller keeps one warm Pod, Running and Ready, in the double.
    await expect
      .poll(() => pods().filter((p) => p.status?.phase === 'Running').length, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(1);

    const created = await api.createSession({
      viewport: { width: 800, height: 600 },
      user_agent: 'VentusE2E/1.0',
    });
    expect(created.status).toBe(202);
    const running = await api.waitFor(created.body.id, ['RUNNING'], 60_000);
    const row = await stack.services.db.query<{ pod_id: string }>(
      'SELECT pod_id FROM sessions WHERE id = $1',
      [running.id],
    );
    const podId = row.rows[0]!.pod_id;
    const name = podName(podId);
    const object = k8s.double.store.get('pods', k8s.namespace, name);
    expect(object?.status?.phase).toBe('Running');
    expect(object?.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'ventus',
      'ventus.io/pod-id': podId,
    });
    // Its agent opens for the stack's own key (the proxy and workers present it), from the Pod's Secret.
    const secret = k8s.double.store.get('secrets', k8s.namespace, agentSecretName(podId));
    expect(secret?.metadata.ownerReferences).toMatchObject([{ kind: 'Pod', name }]);
    expect(Buffer.from((secret!.data as Record<string, string>)['agent-secret']!, 'base64').toString()).toBe(
      stack.services.agentAccess.secretFor(podId),
    );
    // The Pod says which session it serves (set in the background after the claim).
    await expect
      .poll(
        () => k8s.double.store.get('pods', k8s.namespace, name)?.metadata.annotations?.['ventus.io/session'],
      )
      .toBe(running.id);
    const browser = await chromium.connectOverCDP(running.connect_url);
    const context = browser.contexts()[0]!;
    const page = await context.newPage();
    await page.goto(`${site.url}/`);
    expect(await page.title()).toBe('Ventus test page');
    expect(await page.evaluate(() => [innerWidth, innerHeight, navigator.userAgent])).toEqual([
      800,
      600,
      'VentusE2E/1.0',
    ]);
    await browser.close();

    const ended = await api.waitFor(running.id, ['COMPLETED', 'EXPIRED', 'ERRORED'], 30_000);
    expect(ended.status).toBe('COMPLETED');
    expect(ended.release_reason).toBe('cdp_disconnect');
    // Deleted through the API: gone from the double once the kubelet stopped its containers.
    await expect
      .poll(() => k8s.double.store.get('pods', k8s.namespace, name), { timeout: 20_000 })
      .toBeUndefined();
    expect(existsSync(k8s.kubelet.podDir(name))).toBe(false);
    expect(await stack.driver.getPod(podId)).toBeUndefined();
    expect(k8s.double.counts.get('DELETE pods')).toBeGreaterThanOrEqual(1);
    expect(k8s.double.store.get('secrets', k8s.namespace, agentSecretName(podId))).toBeUndefined();
  });
});
