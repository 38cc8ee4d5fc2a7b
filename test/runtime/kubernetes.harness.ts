/**
 * The kubernetes driver against the in-repo API double (test/support/k8s-api-double/), whose
 * kubelet runs real agents + Chromium: looking behind the driver means asking the double's store
 * and the kubelet's pod directories.
 */
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { Pod } from '../../core/runtime/driver.ts';
import {
  KubernetesDriver,
  type KubernetesDriverOptions,
} from '../../core/runtime/kubernetes/kubernetes.driver.ts';
import { podName } from '../../core/runtime/kubernetes/pod-manifest.ts';
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
