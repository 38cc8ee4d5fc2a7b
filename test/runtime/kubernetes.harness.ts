/**
 * The kubernetes driver against the in-repo API double (test/support/k8s-api-double/), whose
 * kubelet runs real agents + Chromium: looking behind the driver means asking the double's store
 * and the kubelet's pod directories.
 */
import { testAgentAccess } from '../support/agent-access.ts';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import WebSocket from 'ws';
import { agentWebSocket, type PodAgentAccess } from '../../core/runtime/agent.client.ts';
import { AGENT_BROWSER_PATH } from '../../runtime-image/agent/protocol.ts';
import { KubeConfig } from '@kubernetes/client-node';
import type { Pod } from '../../core/runtime/driver.ts';
import {
  KubernetesDriver,
  type KubernetesDriverOptions,
} from '../../core/runtime/kubernetes/kubernetes.driver.ts';
import { agentSecretName, podName } from '../../core/runtime/kubernetes/pod-manifest.ts';
import { K8sApiDouble } from '../support/k8s-api-double/api-double.server.ts';
import { FakeKubelet } from '../support/k8s-api-double/fake-kubelet.ts';
import type { DriverHarness } from './driver.conformance.ts';
import { browserPid, podProcesses } from './local.harness.ts';

export const NAMESPACE = 'ventus-test';

/** A kubeconfig (what KUBECONFIG would name) whose one cluster is the double. */
export function kubeConfigFor(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'double', server: url, skipTLSVerify: true }],
    users: [{ name: 'tester', token: 'not-checked' }],
    contexts: [{ name: 'double', cluster: 'double', user: 'tester', namespace: NAMESPACE }],
    currentContext: 'double',
  });
  return kc;
}

/**
 * Browser.getVersion over a pod's CDP endpoint, opened as the control plane opens it (with the pod's
 * secret from `access`); rejects when the agent refuses the upgrade.
 */
export async function browserVersion(access: PodAgentAccess, pod: Pod): Promise<string> {
  const { url, headers } = agentWebSocket(access, pod, AGENT_BROWSER_PATH);
  const ws = new WebSocket(url, { headers, perMessageDeflate: false });
  try {
    await once(ws, 'open');
    ws.send(JSON.stringify({ id: 1, method: 'Browser.getVersion' }));
    const [data] = (await once(ws, 'message')) as [Buffer];
    return (JSON.parse(data.toString('utf8')) as { result: { product: string } }).result.product;
  } finally {
    ws.terminate();
  }
}

export interface KubernetesHarness extends DriverHarness {
  driver: KubernetesDriver;
  double: K8sApiDouble;
  kubelet: FakeKubelet;
  /** A further driver on the same double (closed by cleanup). */
  makeDriver(options?: Partial<KubernetesDriverOptions>): KubernetesDriver;
}

export async function kubernetesHarness(): Promise<KubernetesHarness> {
  const double = await K8sApiDouble.start();
  const kubelet = await FakeKubelet.start(double);
  const drivers: KubernetesDriver[] = [];
  const makeDriver = (options: Partial<KubernetesDriverOptions> = {}): KubernetesDriver => {
    const driver = new KubernetesDriver({
      kubeConfig: kubeConfigFor(double.url),
      agentAccess: testAgentAccess,
      egress: { allow: [], allowPrivate: false },
      namespace: NAMESPACE,
      template: { image: 'ventus/runtime:test' },
      readyTimeoutMs: 30_000,
      deleteGraceSeconds: 3,
      retry: { attempts: 5, baseDelayMs: 50, maxDelayMs: 500 },
      ...options,
    });
    drivers.push(driver);
    return driver;
  };
  const driver = makeDriver();
  return {
    driver,
    double,
    kubelet,
    makeDriver,
    headless: true,
    reopen: () => makeDriver(),
    async leftovers(id) {
      const name = podName(id);
      const left: string[] = [];
      const object = double.store.get('pods', NAMESPACE, name);
      if (object) left.push(`Pod ${name} (${JSON.stringify(object.status?.phase)}) in the API`);
      const secret = agentSecretName(id);
      if (double.store.get('secrets', NAMESPACE, secret)) left.push(`Secret ${secret} in the API`);
      const dir = kubelet.podDir(name);
      for (const pid of podProcesses(dir)) left.push(`process ${pid}`);
      if (existsSync(dir)) left.push(`directory ${dir}`);
      return left;
    },
    async killBrowser(pod: Pod) {
      const pid = browserPid(kubelet.podDir(podName(pod.id)));
      if (pid === undefined) throw new Error(`no browser process found for pod ${pod.id}`);
      process.kill(pid, 'SIGKILL');
    },
    async cleanup() {
      for (const o of double.store.list('pods', NAMESPACE, [])) {
        await driver
          .deletePod(o.metadata.labels?.['ventus.io/pod-id'] ?? o.metadata.name)
          .catch(() => undefined);
      }
      for (const d of drivers) await d.close();
      await kubelet.close();
      await double.close();
    },
  };
}
