/**
 * The kubernetes driver: the conformance suite against the Kubernetes API double (real Chromium
 * behind its kubelet), plus what is specific to talking to an API server: the Pod it creates,
 * rejected objects, 410 Gone on the watch, 5xx with backoff, bounded concurrency, restarts.
 */
import { testAgentAccess } from '../support/agent-access.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/config.ts';
import { createDriver } from '../../core/runtime/create-driver.ts';
import { KubernetesApiError } from '../../core/runtime/kubernetes/kubernetes.driver.ts';
import {
  agentSecretName,
  buildAgentSecret,
  buildPodManifest,
  podName,
} from '../../core/runtime/kubernetes/pod-manifest.ts';
import { restrictedViolation } from '../support/k8s-api-double/pod-security.ts';
import { validatePod } from '../support/k8s-api-double/validation.ts';
import { describeDriverConformance, eventually, podId } from './driver.conformance.ts';
import {
  NAMESPACE,
  browserVersion,
  kubernetesHarness,
  type KubernetesHarness,
} from './kubernetes.harness.ts';

const NO_EGRESS = { egress: { allow: [], allowPrivate: false } };

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

  const secretOf = (id: string) => h.double.store.get('secrets', NAMESPACE, agentSecretName(id));

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
      CHROMIUM_SANDBOX: 'false',
      DEVTOOLS_PORT: '6666',
      VENTUS_EGRESS_ALLOW: '',
      VENTUS_EGRESS_ALLOW_PRIVATE: 'false',
    });
    expect(pod).toMatchObject({ id: s.id, pool: 'us-east1/chromium' });
    expect(pod.cdpUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/devtools\/browser$/);
    expect(await h.driver.getPod(s.id)).toMatchObject({ id: s.id, alive: true });
    // A production template (no agent-port annotation) points at podIP:9222.
    const built = buildPodManifest(
      s,
      { image: 'img', runtimeClassName: 'gvisor', nodeSelector: { a: 'b' } },
      NO_EGRESS,
    );
    expect(validatePod(built as never)).toBeUndefined();
    expect(built.spec).toMatchObject({ runtimeClassName: 'gvisor', nodeSelector: { a: 'b' } });
    await h.driver.annotateSession(s.id, 'sess-1');
    expect(h.double.store.get('pods', NAMESPACE, podName(s.id))!.metadata.annotations).toMatchObject({
      'ventus.io/session': 'sess-1',
    });
    await h.driver.deletePod(s.id);
  });

  it('runs the Pod as Pod Security "restricted" admits: non-root, no capabilities, read-only root', async () => {
    const s = spec('hardened');
    await h.driver.createPod(s);
    const object = h.double.store.get('pods', NAMESPACE, podName(s.id))!;
    const podSpec = object.spec as Record<string, unknown>;
    expect(podSpec).toMatchObject({
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    });
    expect(podSpec.serviceAccountName).toBeUndefined();
    // The double admits Pods as Pod Security `restricted` does (the chart labels the namespace so).
    expect(h.double.podSecurity).toBe('restricted');
    expect(restrictedViolation(object)).toBeUndefined();
    const rootPod = structuredClone(object);
    delete (rootPod.spec!.securityContext as Record<string, unknown>).runAsNonRoot;
    expect(restrictedViolation(rootPod)?.message).toMatch(
      /violates PodSecurity "restricted:latest": runAsNonRoot != true/,
    );
    const [container] = podSpec.containers as Record<string, unknown>[];
    expect(container!.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    // Every writable place is a sized emptyDir, and the container's disk is limited.
    const volumes = podSpec.volumes as { name: string; emptyDir: { sizeLimit?: string } }[];
    expect(volumes.map((v) => v.name).sort()).toEqual(['data', 'home', 'shm', 'tmp']);
    for (const v of volumes) expect(v.emptyDir.sizeLimit, v.name).toMatch(/^\d+(Mi|Gi)$/);
    const mounts = (container!.volumeMounts as { mountPath: string }[]).map((m) => m.mountPath).sort();
    expect(mounts).toEqual(['/data', '/dev/shm', '/home/ventus', '/tmp']);
    expect(container!.resources).toMatchObject({ limits: { 'ephemeral-storage': '3Gi' } });
    // Probes present the secret: an exec probe (no httpGet, which cannot carry it).
    for (const probe of ['startupProbe', 'readinessProbe']) {
      const declared = container![probe] as Record<string, unknown>;
      expect(Object.keys(declared), probe).not.toContain('httpGet');
      expect(JSON.stringify(declared), probe).toContain('x-ventus-agent-secret');
    }
    await h.driver.deletePod(s.id);
  });

  it('gives each Pod its own secret in a Secret it owns, never in the Pod object; deletes it with the Pod', async () => {
    const [a, b] = await Promise.all([
      h.driver.createPod(spec('secret-a')),
      h.driver.createPod(spec('secret-b')),
    ]);
    for (const pod of [a, b]) {
      const object = h.double.store.get('pods', NAMESPACE, podName(pod.id))!;
      const secret = secretOf(pod.id)!;
      const value = Buffer.from(
        (secret.data as Record<string, string>)['agent-secret']!,
        'base64',
      ).toString();
      // The id the rest of the control plane uses (the label, verbatim) is the one it is derived from.
      expect(value).toBe(testAgentAccess.secretFor(pod.id));
      expect(JSON.stringify(object)).not.toContain(value);
      const env = (object.spec!.containers as { env: { name: string; valueFrom?: unknown }[] }[])[0]!.env;
      expect(env.find((e) => e.name === 'VENTUS_AGENT_SECRET')?.valueFrom).toEqual({
        secretKeyRef: { name: agentSecretName(pod.id), key: 'agent-secret', optional: false },
      });
      expect(secret.metadata.ownerReferences).toEqual([
        { apiVersion: 'v1', kind: 'Pod', name: podName(pod.id), uid: object.metadata.uid },
      ]);
      expect(secret.metadata.labels).toMatchObject({ 'ventus.io/pod-id': pod.id });
    }
    expect(testAgentAccess.secretFor(a.id)).not.toBe(testAgentAccess.secretFor(b.id));
    // deletePod deletes the Secret itself.
    await h.driver.deletePod(a.id);
    expect(secretOf(a.id)).toBeUndefined();
    // Someone else deletes the Pod (kubectl, an eviction): the garbage collector takes the Secret.
    const res = await fetch(`${h.double.url}/api/v1/namespaces/${NAMESPACE}/pods/${podName(b.id)}`, {
      method: 'DELETE',
    });
    expect(res.status).toBe(200);
    expect(await eventually(() => secretOf(b.id) === undefined, 15_000)).toBe(true);
  });

  it('reports a Secret whose creator died before its Pod, once past the ready timeout, and deletes it', async () => {
    const dead = spec('dead-creator');
    const young = spec('creating');
    for (const s of [dead, young]) {
      const body = buildAgentSecret(s, testAgentAccess.secretFor(s.id));
      const res = await fetch(`${h.double.url}/api/v1/namespaces/${NAMESPACE}/secrets`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
    }
    h.double.store.modify('secrets', NAMESPACE, agentSecretName(dead.id), (o) => {
      o.metadata.creationTimestamp = new Date(Date.now() - 36_000).toISOString();
    });
    const listed = await h.driver.listPods();
    expect(listed.find((p) => p.id === dead.id)).toMatchObject({ pool: 'k8s', alive: false });
    // One as young as a creation in flight is left alone.
    expect(listed.find((p) => p.id === young.id)).toBeUndefined();
    await h.driver.deletePod(dead.id);
    expect(secretOf(dead.id)).toBeUndefined();
    expect((await h.driver.listPods()).find((p) => p.id === dead.id)).toBeUndefined();
    await h.driver.deletePod(young.id);
    expect(secretOf(young.id)).toBeUndefined();
  });

  it("passes the operator's egress policy to every Pod's agent", async () => {
    const allowing = h.makeDriver({ egress: { allow: ['pages.example.test:8443'], allowPrivate: true } });
    const built = buildPodManifest(
      spec('egress'),
      { image: 'img' },
      {
        egress: { allow: ['pages.example.test:8443', '[fd00::1]:80'], allowPrivate: true },
      },
    );
    const env = built.spec!.containers[0]!.env!;
    expect(env).toContainEqual({
      name: 'VENTUS_EGRESS_ALLOW',
      value: 'pages.example.test:8443,[fd00::1]:80',
    });
    expect(env).toContainEqual({ name: 'VENTUS_EGRESS_ALLOW_PRIVATE', value: 'true' });
    const pod = await allowing.createPod(spec('egress'));
    const object = h.double.store.get('pods', NAMESPACE, podName(pod.id))!;
    expect((object.spec!.containers as { env: unknown[] }[])[0]!.env).toContainEqual({
      name: 'VENTUS_EGRESS_ALLOW',
      value: 'pages.example.test:8443',
    });
    await allowing.deletePod(pod.id);
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
    const before = h.double.counts.get('POST secrets') ?? 0;
    const creating = h.driver.createPod({ id: 'bad_name', pool: 'k8s', headless: true });
    await expect(creating).rejects.toThrow(KubernetesApiError);
    // Its Secret comes first, and is named after the Pod.
    await expect(creating).rejects.toThrow(
      /create secret ventus-bad_name-agent: Secret "ventus-bad_name-agent" is invalid: metadata\.name/,
    );
    expect(h.double.counts.get('POST secrets')).toBe(before + 1);
    const noImage = h.makeDriver({ template: { image: '' } });
    const rejected = spec('noimage');
    await expect(noImage.createPod(rejected)).rejects.toThrow(/spec\.containers\[0\]\.image: Required value/);
    // The Secret made for the rejected Pod does not stay behind.
    expect(secretOf(rejected.id)).toBeUndefined();
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
      expect(await restarted.isHealthy(seen!)).toBe(true);
      expect(await browserVersion(testAgentAccess, seen!)).toMatch(/Chrome/);
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
    const driver = createDriver(
      loadConfig({
        VENTUS_DRIVER: 'kubernetes',
        VENTUS_K8S_IMAGE: 'ventus/runtime:1',
        VENTUS_EGRESS_ALLOW: 'pages.example.test:8443',
        VENTUS_ALLOW_PRIVATE_TARGETS: 'true',
      }),
      testAgentAccess,
    );
    expect(driver.kind).toBe('kubernetes');
    // The configuration's egress policy reaches the driver (and so every Pod's environment).
    expect((driver as unknown as { options: { egress: unknown } }).options.egress).toEqual({
      allow: ['pages.example.test:8443'],
      allowPrivate: true,
    });
    expect(createDriver(config, testAgentAccess).kind).toBe('kubernetes');
  });
});
