/**
 * The Kubernetes Secrets that carry each pod's agent secret (one per Pod, `<pod>-agent`): created
 * before the Pod, owned by it once it exists (Kubernetes' garbage collector deletes the Secret with
 * the Pod, however the Pod goes), deleted explicitly by deletePod, and reported when a creator died
 * between the two so the reaper deletes them. Never leaked, never written into the Pod object.
 */
import type { CoreV1Api, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { PodAgentAccess } from '../agent.client.ts';
import type { PodSpec } from '../driver.ts';
import { KubernetesApiError, statusOf, type ApiCalls } from './api-calls.ts';
import {
  MANAGED_SELECTOR,
  POD_ID_LABEL,
  POOL_ANNOTATION,
  POOL_LABEL,
  agentSecretName,
  buildAgentSecret,
  podName,
} from './pod-manifest.ts';

export interface AgentSecretsOptions {
  api: CoreV1Api;
  calls: ApiCalls;
  namespace: string;
  access: PodAgentAccess;
}

/** A Secret whose Pod does not exist: where it was meant to go. */
export interface OrphanSecret {
  podId: string;
  pool: string;
  createdAt: Date;
}

export class AgentSecrets {
  constructor(private readonly options: AgentSecretsOptions) {}

  /**
   * Creates the pod's Secret. One already there is debris of an earlier attempt at the same id (a
   * creator that died, or a retry after a lost answer): it is replaced, so its owner is not stale.
   */
  async create(spec: PodSpec, signal?: AbortSignal): Promise<void> {
    const { api, calls, namespace, access } = this.options;
    const body = buildAgentSecret(spec, access.secretFor(spec.id));
    const name = agentSecretName(spec.id);
    await calls.run(
      `create secret ${name}`,
      () =>
        api.createNamespacedSecret({ namespace, body }).catch(async (err: unknown) => {
          if (statusOf(err) !== 409) throw err;
          await api.deleteNamespacedSecret({ name, namespace }).catch(ignoreNotFound);
          return api.createNamespacedSecret({ namespace, body });
        }),
      signal,
    );
  }

  /** Makes the Pod the Secret's owner: deleting the Pod (by anyone) deletes the Secret. */
  async adopt(id: string, pod: V1Pod): Promise<void> {
    const { api, calls, namespace } = this.options;
    const owner = {
      apiVersion: 'v1',
      kind: 'Pod',
      name: pod.metadata!.name!,
      uid: pod.metadata!.uid!,
    };
    const name = agentSecretName(id);
    await calls.run(`adopt secret ${name}`, () =>
      api.patchNamespacedSecret({
        name,
        namespace,
        body: [{ op: 'add', path: '/metadata/ownerReferences', value: [owner] }],
      }),
    );
  }

  /** Idempotent: a missing Secret resolves. */
  async delete(id: string): Promise<void> {
    const { api, calls, namespace } = this.options;
    const name = agentSecretName(id);
    try {
      await calls.run(`delete secret ${name}`, () => api.deleteNamespacedSecret({ name, namespace }));
    } catch (err) {
      if (err instanceof KubernetesApiError && err.status === 404) return;
      throw err;
    }
  }

  /**
   * Secrets older than `minAgeMs` whose Pod is not among `podNames` (every Pod of the driver, listed
   * before this call): a creator died between creating the Secret and the Pod, or the Pod is gone
   * and the garbage collector has not caught up. Younger ones may belong to a creation in flight.
   */
  async orphans(podNames: ReadonlySet<string>, minAgeMs: number): Promise<OrphanSecret[]> {
    const { api, calls, namespace } = this.options;
    const list = await calls.run('list secrets', () =>
      api.listNamespacedSecret({ namespace, labelSelector: MANAGED_SELECTOR }),
    );
    const now = Date.now();
    return list.items.flatMap((secret: V1Secret) => {
      const podId = secret.metadata?.labels?.[POD_ID_LABEL];
      const createdAt = new Date(secret.metadata?.creationTimestamp ?? 0);
      if (!podId || podNames.has(podName(podId)) || now - createdAt.getTime() < minAgeMs) return [];
      const pool =
        secret.metadata?.annotations?.[POOL_ANNOTATION] ?? secret.metadata?.labels?.[POOL_LABEL] ?? '';
      return [{ podId, pool, createdAt }];
    });
  }
}

function ignoreNotFound(err: unknown): void {
  if (statusOf(err) !== 404) throw err;
}
