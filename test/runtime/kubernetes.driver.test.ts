/**
 * The kubernetes driver: the conformance suite against the Kubernetes API double (real Chromium
 * behind its kubelet), plus what is specific to talking to an API server: the Pod it creates,
 * rejected objects, 410 Gone on the watch, 5xx with backoff, bounded concurrency, restarts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/config.ts';
import { createDriver } from '../../core/runtime/create-driver.ts';
import { KubernetesApiError } from '../../core/runtime/kubernetes/kubernetes.driver.ts';
import { buildPodManifest, podName } from '../../core/runtime/kubernetes/pod-manifest.ts';
import { validatePod } from '../support/k8s-api-double/validation.ts';
import { describeDriverConformance, eventually, podId } from './driver.conformance.ts';
import { NAMESPACE, kubernetesHarness, type KubernetesHarness } from './kubernetes.harness.ts';
import { RawCdp } from './raw-cdp.client.ts';

describeDriverConformance('kubernetes (API double), headless', () => kubernetesHarness());

describe('kubernetes driver', { timeout: 60_000 }, () => {
  let h: KubernetesHarness;
  const spec = (prefix: string) => ({ id: podId(prefix), pool: 'k8s', headless: true });

  beforeAll(async () => {
    h = await kubernetesHarness();
  }, 60_000);

  afterAll(async () => {
    await h?.cleanup();
  }, 60_000);

  it('creates a Pod from the template: labels, annotations, hardening, emptyDir only, agent env', async () => {
    const s = { id: podId('SHAPE').toUpperCase(), pool: 'us-east1/chromium', headless: true };
    const pod = await h.driver.createPod(s);
    const object = h.double.store.get('pods', NAMESPACE, podName(s.id))!;
    expect(object.metadata.name).toBe(podName(s.id));
    expect(object.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'ventus',
      'ventus.io/pool': 'us-east1_chromium',
      'ventus.io/pod-id': s.id,
    });
    expect(object.metadata.annotations).toMatchObject({ 'ventus.io/pool': 'us-east1/chromium' });
    const podSpec = object.spec as Record<string, unknown> & { volumes: Record<string, unknown>[] };
    expect(podSpec).toMatchObject({
      hostUsers: false,
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
    });
    expect(podSpec.volumes.every((v) => Object.keys(v).sort().join() === 'emptyDir,name')).toBe(true);
    const env = (podSpec.containers as { env: { name: string; value: string }[] }[])[0]!.env;
    expect(Object.fromEntries(env.map((e) => [e.name, e.value]))).toMatchObject({
      AGENT_PORT: '9222',
      AGENT_HOST: '0.0.0.0',
      HEADLESS: 'true',
      USER_DATA_DIR: '/data/user-data',
      POD_ID: s.id,
    });
    expect(pod).toMatchObject({ id: s.id, pool: 'us-east1/chromium' });
    expect(pod.cdpUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/devtools\/browser$/);
    expect(await h.driver.getPod(s.id)).toMatchObject({ id: s.id, alive: true });
    // A production template (no agent-port annotation) points at podIP:9222.
    const built = buildPodManifest(s, { image: 'img', runtimeClassName: 'gvisor', nodeSelector: { a: 'b' } });
    expect(validatePod(built as never)).toBeUndefined();
    expect(built.spec).toMatchObject({ runtimeClassName: 'gvisor', nodeSelector: { a: 'b' } });
    await h.driver.annotateSession(s.id, 'sess-1');
    expect(h.double.store.get('pods', NAMESPACE, podName(s.id))!.metadata.annotations).toMatchObject({
      'ventus.io/session': 'sess-1',
    });
    await h.driver.deletePod(s.id);
  });

  it("a pool's pod template overrides the driver's image, resources and placement", async () => {
    const template = {
      image: 'registry.example/ventus/runtime:pool-1',
      resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
      node_selector: { 'ventus.io/browsers': 'true' },
      tolerations: [{ key: 'browsers', operator: 'Exists', effect: 'NoSchedule' }],
      runtime_class: 'gvisor',
    };
    const s = { id: podId('POOLTPL').toUpperCase(), pool: 'p-tpl', headless: true, template };
    await h.driver.createPod(s);
    const object = h.double.store.get('pods', NAMESPACE, podName(s.id))!;
    const spec = object.spec as Record<string, unknown> & { containers: Record<string, unknown>[] };
    expect(spec).toMatchObject({
      runtimeClassName: 'gvisor',
      nodeSelector: template.node_selector,
      tolerations: template.tolerations,
    });
    expect(spec.containers[0]).toMatchObject({ image: template.image, resources: template.resources });
    await h.driver.deletePod(s.id);
  });

  it('surfaces a Pod the API rejects as a clear error, without retrying it', async () => {
    const before = h.double.counts.get('POST pods') ?? 0;
    const creating = h.driver.createPod({ id: 'bad_name', pool: 'k8s', headless: true });
    await expect(creating).rejects.toThrow(KubernetesApiError);
    await expect(creating).rejects.toThrow(
      /create pod bad_name: Pod "ventus-bad_name" is invalid: metadata\.name/,
    );
    expect(h.double.counts.get('POST pods')).toBe(before + 1);
    const noImage = h.makeDriver({ template: { image: '' } });
    await expect(noImage.createPod(spec('noimage'))).rejects.toThrow(
      /spec\.containers\[0\]\.image: Required value/,
    );
    await expect(h.driver.getPod('bad_name')).resolves.toBeUndefined();
  });

  it('refuses a duplicate id', async () => {
    const pod = await h.driver.createPod(spec('dup'));
    await expect(h.driver.createPod({ id: pod.id, pool: 'k8s', headless: true })).rejects.toThrow(
      /already exists/,
    );
    await h.driver.deletePod(pod.id);
  });

  it('recovers from 410 Gone on the watch: re-lists, re-watches, still sees readiness', async () => {
    const relists = h.driver.watch.relists;
    await h.driver.createPod(spec('pre-expiry')).then((p) => h.driver.deletePod(p.id));
    h.double.expireWatches();
    expect(await eventually(() => h.driver.watch.relists > relists, 5_000)).toBe(true);
    const pod = await h.driver.createPod(spec('post-expiry'));
    expect(await h.driver.isHealthy(pod)).toBe(true);
    h.double.expireWatches(); // while a deletion waits on the watch
    await h.driver.deletePod(pod.id);
    expect(await h.driver.getPod(pod.id)).toBeUndefined();
  });

  it('retries API errors with backoff, then succeeds; gives up with the last error', async () => {
    h.double.failRequests({ count: 3, code: 500 });
    const pods = await h.driver.listPods();
    expect(Array.isArray(pods)).toBe(true);
    h.double.failRequests({ forMs: 400, code: 503 });
    const pod = await h.driver.createPod(spec('flaky'));
    expect(await h.driver.isHealthy(pod)).toBe(true);
    await h.driver.deletePod(pod.id);
    const impatient = h.makeDriver({ retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 } });
    h.double.failRequests({ count: 10, code: 500 });
    await expect(impatient.listPods()).rejects.toThrow(/list pods: injected failure/);
    h.double.failRequests({ count: 0 });
  });

  it('bounds concurrent API calls with p-limit', async () => {
    const bounded = h.makeDriver({ maxConcurrentCalls: 2 });
    h.double.delayMs = 100;
    h.double.maxInFlight = 0;
    try {
      await Promise.all(Array.from({ length: 8 }, (_, i) => bounded.getPod(`none-${i}`)));
      expect(h.double.maxInFlight).toBe(2);
    } finally {
      h.double.delayMs = 0;
    }
  });

  it('a new driver instance (a restart) lists existing pods and reaches them', async () => {
    const pods = await Promise.all([h.driver.createPod(spec('kept')), h.driver.createPod(spec('kept'))]);
    const restarted = h.makeDriver();
    const listed = await restarted.listPods();
    for (const pod of pods) {
      const seen = listed.find((p) => p.id === pod.id);
      expect(seen).toMatchObject({ alive: true, cdpUrl: pod.cdpUrl, controlUrl: pod.controlUrl });
      const cdp = await RawCdp.connect(seen!.cdpUrl);
      expect(await cdp.send('Browser.getVersion')).toHaveProperty('product');
      cdp.close();
      await restarted.deletePod(pod.id);
    }
    expect((await h.driver.listPods()).filter((p) => pods.some((q) => q.id === p.id))).toEqual([]);
  });

  it('VENTUS_DRIVER=kubernetes builds the driver from the configuration', () => {
    expect(() => loadConfig({ VENTUS_DRIVER: 'kubernetes' })).toThrow(/VENTUS_K8S_IMAGE/);
    const config = loadConfig({
      VENTUS_DRIVER: 'kubernetes',
      VENTUS_K8S_IMAGE: 'ventus/runtime:1',
      VENTUS_K8S_NAMESPACE: 'browsers',
      VENTUS_K8S_NODE_SELECTOR: 'pool=browsers,zone=a',
      VENTUS_K8S_RUNTIME_CLASS: 'gvisor',
    });
    expect(config.kubernetes).toMatchObject({
      namespace: 'browsers',
      image: 'ventus/runtime:1',
      nodeSelector: { pool: 'browsers', zone: 'a' },
      runtimeClassName: 'gvisor',
    });
    expect(() =>
      loadConfig({ VENTUS_DRIVER: 'kubernetes', VENTUS_K8S_IMAGE: 'i', VENTUS_K8S_NODE_SELECTOR: 'x' }),
    ).toThrow(/VENTUS_K8S_NODE_SELECTOR/);
    expect(createDriver(config).kind).toBe('kubernetes');
  });
});
