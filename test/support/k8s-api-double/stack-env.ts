/**
 * The API double and its kubelet for a whole stack (TestContext.startStack): the stack's driver comes
 * from createDriver(config), which loads the kubeconfig the standard way, so this writes one naming
 * the double to a temp file and points KUBECONFIG at it for the rest of the test file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NAMESPACE, kubeConfigFor } from '../../runtime/kubernetes.harness.ts';
import { K8sApiDouble } from './api-double.server.ts';
import { FakeKubelet } from './fake-kubelet.ts';

export interface KubernetesStackEnv {
  double: K8sApiDouble;
  kubelet: FakeKubelet;
  namespace: string;
  /** VENTUS_* settings selecting the kubernetes driver against the double (for TestContext.create). */
  env: Record<string, string>;
  /** POST and DELETE requests on pods the double has answered so far. */
  podWrites(): { created: number; deleted: number };
  close(): Promise<void>;
}

export async function kubernetesStackEnv(): Promise<KubernetesStackEnv> {
  const double = await K8sApiDouble.start();
  const kubelet = await FakeKubelet.start(double);
  const dir = await mkdtemp(join(tmpdir(), 'ventus-kubeconfig-'));
  const file = join(dir, 'kubeconfig.json'); // JSON is YAML: the client's loader reads it
  await writeFile(file, kubeConfigFor(double.url).exportConfig(), { mode: 0o600 });
  const previous = process.env.KUBECONFIG;
  process.env.KUBECONFIG = file;
  return {
    double,
    kubelet,
    namespace: NAMESPACE,
    env: {
      VENTUS_DRIVER: 'kubernetes',
      VENTUS_K8S_IMAGE: 'ventus/runtime:test',
      VENTUS_K8S_NAMESPACE: NAMESPACE,
      VENTUS_K8S_DELETE_GRACE_SECONDS: '3',
      VENTUS_HEADLESS: 'true',
    },
    podWrites: () => ({
      created: double.counts.get('POST pods') ?? 0,
      deleted: double.counts.get('DELETE pods') ?? 0,
    }),
    async close() {
      if (previous === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previous;
      await kubelet.close();
      await double.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
