/**
 * The `kubernetes` runtime driver: one Pod per browser, created from a template (pod-manifest.ts)
 * with @kubernetes/client-node. The API server is the only state: any driver instance on the same
 * namespace (another replica, or this process after a restart) lists, probes and deletes the same
 * pods by label selector. Readiness and deletion are learnt from one shared watch (pod-watch.ts);
 * every request is bounded and retried by ApiCalls (api-calls.ts).
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Pod, PodSessionConfig, PodSpec, PodStatus, RestoredCounts, RuntimeDriver } from '../driver.ts';
import { postSessionConfig } from '../pod-control.client.ts';
import { agentAnswersOk, type PodAgentAccess } from '../agent.client.ts';
import { PodCreations } from '../pod-creations.ts';
import type { EgressPolicy } from '../../security/egress-policy.ts';
import { AgentSecrets, type OrphanSecret } from './agent-secrets.ts';
import { ApiCalls, DEFAULT_RETRY, KubernetesApiError, statusOf, type RetryPolicy } from './api-calls.ts';
import { DEFAULT_AGENT_PORT } from './browser-container.ts';
import {
  MANAGED_SELECTOR,
  SESSION_ANNOTATION,
  buildPodManifest,
  withPoolTemplate,
  isPodReady,
  isValidPodName,
  podFailure,
  podIdOf,
  podName,
  toPodStatus,
  type PodTemplate,
} from './pod-manifest.ts';
import { PodWatch } from './pod-watch.ts';

export { KubernetesApiError } from './api-calls.ts';
export type { PodTemplate } from './pod-manifest.ts';

export interface KubernetesDriverOptions {
  /** From the standard loader (KUBECONFIG, ~/.kube/config or in-cluster): `kc.loadFromDefault()`. */
  kubeConfig: KubeConfig;
  /**
   * The control plane's key to the pods' agents: each Pod gets its own secret,
   * `agentAccess.secretFor(<pod id>)`, in a Kubernetes Secret of its own.
   */
  agentAccess: PodAgentAccess;
  /** What pages may reach (VENTUS_EGRESS_ALLOW, VENTUS_ALLOW_PRIVATE_TARGETS): every Pod's agent applies it. */
  egress: EgressPolicy;
  namespace: string;
  template: PodTemplate;
  /** How long createPod waits for Ready (image pull and Chromium start included); default 120 s. */
  readyTimeoutMs?: number;
  /** gracePeriodSeconds of deletePod; default 5 (the agent stops Chromium and wipes its dirs in ~2 s). */
  deleteGraceSeconds?: number;
  /** Requests to the API server in flight at once, per driver; default 8. */
  maxConcurrentCalls?: number;
  retry?: RetryPolicy;
  /** Port of the agent in every Pod, unless the Pod's `ventus.io/agent-port` annotation says otherwise. */
  agentPort?: number;
  /** Failures of the shared watch (it retries them itself); default: ignored. */
  onWatchError?: (err: unknown) => void;
}

export class KubernetesDriver implements RuntimeDriver {
  readonly kind = 'kubernetes' as const;
  readonly calls: ApiCalls;
  readonly watch: PodWatch;
  private readonly api: CoreV1Api;
  private readonly namespace: string;
  private readonly readyTimeoutMs: number;
  private readonly graceSeconds: number;
  private readonly agentPort: number;
  private readonly creations = new PodCreations();
  private readonly secrets: AgentSecrets;

  constructor(private readonly options: KubernetesDriverOptions) {
    this.api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.namespace = options.namespace;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
    this.graceSeconds = options.deleteGraceSeconds ?? 5;
    this.agentPort = options.agentPort ?? DEFAULT_AGENT_PORT;
    const retry = options.retry ?? DEFAULT_RETRY;
    this.calls = new ApiCalls(options.maxConcurrentCalls ?? 8, retry);
    this.watch = new PodWatch({
      kubeConfig: options.kubeConfig,
      api: this.api,
      calls: this.calls,
      namespace: this.namespace,
      labelSelector: MANAGED_SELECTOR,
      retry,
      ...(options.onWatchError && { onError: options.onWatchError }),
    });
    this.secrets = new AgentSecrets({
      api: this.api,
      calls: this.calls,
      namespace: this.namespace,
      access: options.agentAccess,
    });
  }

  createPod(spec: PodSpec, signal?: AbortSignal): Promise<Pod> {
    return this.creations.run(signal, (aborted) => this.create(spec, aborted));
  }

  private async create(spec: PodSpec, signal: AbortSignal): Promise<Pod> {
    signal.throwIfAborted();
    await this.watch.start();
    const template = withPoolTemplate(this.options.template, spec.template);
    const body = buildPodManifest(spec, template, { egress: this.options.egress });
    let created: V1Pod;
    let attempted = false;
    try {
      // The Secret first: the kubelet reads it when it starts the container.
      await this.secrets.create(spec, signal);
      created = await this.calls.run(
        `create pod ${spec.id}`,
        () => {
          const first = !attempted;
          attempted = true;
          return this.api.createNamespacedPod({ namespace: this.namespace, body }).catch(async (err) => {
            // A retry after a lost answer finds the Pod its first attempt created: that one is ours.
            if (!first && statusOf(err) === 409) return this.readPod(podName(spec.id));
            throw err;
          });
        },
        signal,
      );
    } catch (err) {
      const exists = err instanceof KubernetesApiError && err.reason === 'AlreadyExists';
      // The Secret (and a Pod an aborted attempt may have made) must not outlive a failed creation;
      // a Pod that already existed keeps its own.
      if (!exists) await this.deletePod(spec.id, 0).catch(() => undefined);
      if (signal.aborted) throw signal.reason;
      if (exists) {
        throw new KubernetesApiError(`pod ${spec.id} already exists`, err.status, err.reason, { cause: err });
      }
      throw err;
    }
    try {
      await this.secrets.adopt(spec.id, created);
      const ready = await this.waitUntilReady(created, signal);
      return withoutAlive(toPodStatus(ready, this.agentPort));
    } catch (err) {
      // Never leave a pod nobody will hand out: it would hold a slot until the reaper found it.
      await this.deletePod(spec.id, 0).catch(() => undefined);
      if (signal.aborted) throw signal.reason;
      throw err;
    }
  }

  /**
   * Every Pod, plus each Secret left without its Pod past the ready timeout (reported not alive, as
   * a Pod that never became ready is), so that the reaper's deletePod deletes it.
   */
  async listPods(): Promise<PodStatus[]> {
    const list = await this.calls.run('list pods', () =>
      this.api.listNamespacedPod({ namespace: this.namespace, labelSelector: MANAGED_SELECTOR }),
    );
    const names = new Set(list.items.map((pod) => pod.metadata?.name ?? ''));
    const orphans = await this.secrets.orphans(names, this.readyTimeoutMs + 5_000);
    return list.items
      .filter((pod) => this.isReportable(pod))
      .map((pod) => toPodStatus(pod, this.agentPort))
      .concat(orphans.map((orphan) => this.orphanStatus(orphan)))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async getPod(id: string): Promise<PodStatus | undefined> {
    const name = podName(id);
    if (!isValidPodName(name)) return undefined;
    const pod = await this.readPod(name).catch((err: unknown) => {
      if (err instanceof KubernetesApiError && err.status === 404) return undefined;
      throw err;
    });
    // Another id that lower-cases to the same name is not this pod.
    if (!pod || podIdOf(pod) !== id || !this.isReportable(pod)) return undefined;
    return toPodStatus(pod, this.agentPort);
  }

  isHealthy(pod: Pod): Promise<boolean> {
    return agentAnswersOk(this.options.agentAccess, pod, '/healthz');
  }

  configureSession(pod: Pod, config: PodSessionConfig): Promise<RestoredCounts | undefined> {
    return postSessionConfig(this.options.agentAccess, pod, config);
  }

  /**
   * Deletes the Pod with a grace period (the agent gets SIGTERM, stops Chromium, wipes its dirs) and
   * its Secret, and resolves once the API server no longer has the Pod. Idempotent: a missing Pod
   * resolves at once.
   */
  async deletePod(id: string, graceSeconds = this.graceSeconds): Promise<void> {
    const name = podName(id);
    if (!isValidPodName(name)) return;
    await this.watch.start();
    let uid: string | undefined;
    let found = true;
    try {
      const deleted = await this.calls.run(`delete pod ${id}`, () =>
        this.api.deleteNamespacedPod({
          name,
          namespace: this.namespace,
          gracePeriodSeconds: graceSeconds,
        }),
      );
      uid = deleted.metadata?.uid;
    } catch (err) {
      if (!(err instanceof KubernetesApiError && err.status === 404)) throw err;
      found = false;
    }
    // The garbage collector would delete an adopted Secret with its Pod; one never adopted it would not.
    await this.secrets.delete(id);
    if (found) await this.waitUntilGone(name, uid, (graceSeconds + 30) * 1000);
  }

  /** Records the session a pod serves on the Pod (`ventus.io/session`), for operators' eyes. */
  async annotateSession(id: string, sessionId: string): Promise<void> {
    await this.calls.run(`annotate pod ${id}`, () =>
      this.api.patchNamespacedPod({
        name: podName(id),
        namespace: this.namespace,
        body: [
          {
            op: 'add',
            path: `/metadata/annotations/${SESSION_ANNOTATION.replace('/', '~1')}`,
            value: sessionId,
          },
        ],
      }),
    );
  }

  /** Aborts creations in flight (their Pods are deleted) and stops the watch. Pods stay. */
  async close(): Promise<void> {
    await this.creations.abortAll(new Error('driver closed'));
    await this.watch.stop();
  }

  private orphanStatus(orphan: OrphanSecret): PodStatus {
    const unreachable = `0.0.0.0:${this.agentPort}`;
    return {
      id: orphan.podId,
      pool: orphan.pool,
      cdpUrl: `ws://${unreachable}/devtools/browser`,
      controlUrl: `http://${unreachable}`,
      createdAt: orphan.createdAt,
      alive: false,
    };
  }

  private readPod(name: string): Promise<V1Pod> {
    return this.calls.run(`read pod ${name}`, () =>
      this.api.readNamespacedPod({ name, namespace: this.namespace }),
    );
  }

  /**
   * A Pod still starting is not a pod yet (as with the local driver): only a creator that gave up
   * (past the ready timeout) leaves one that never became ready, which is reported so a reaper finds it.
   */
  private isReportable(pod: V1Pod): boolean {
    if (isPodReady(pod) || podFailure(pod) !== undefined || pod.status?.phase === 'Running') return true;
    const created = pod.metadata?.creationTimestamp?.getTime() ?? 0;
    return Date.now() - created > this.readyTimeoutMs + 5_000;
  }

  private waitUntilReady(created: V1Pod, signal: AbortSignal): Promise<V1Pod> {
    const name = created.metadata!.name!;
    const uid = created.metadata?.uid;
    return new Promise<V1Pod>((resolve, reject) => {
      const check = (pod: V1Pod | undefined, deleted = false): void => {
        if (!pod || (uid && pod.metadata?.uid !== uid)) return;
        if (deleted) return finish(new Error(`pod ${podIdOf(pod)} was deleted while starting`));
        if (isPodReady(pod)) return finish(undefined, pod);
        const failure = podFailure(pod);
        if (failure) finish(new Error(`pod ${podIdOf(pod)} failed to start: ${failure}`));
      };
      const off = this.watch.on((type, pod) => {
        if (pod.metadata?.name === name) check(pod, type === 'DELETED');
      });
      const timer = setTimeout(() => {
        const phase = this.watch.get(name)?.status?.phase ?? 'unknown';
        finish(
          new Error(`pod ${podIdOf(created)} not ready within ${this.readyTimeoutMs} ms (phase ${phase})`),
        );
      }, this.readyTimeoutMs);
      const onAbort = (): void =>
        finish(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      function finish(err: Error | undefined, pod?: V1Pod): void {
        off();
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(pod!);
      }
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) return onAbort();
      check(this.watch.get(name) ?? created);
    });
  }

  /** Resolves when the watch reports the Pod gone; a GET every 2 s covers a watch that is down. */
  private async waitUntilGone(name: string, uid: string | undefined, timeoutMs: number): Promise<void> {
    const sameUid = (pod: V1Pod | undefined): boolean => !!pod && (!uid || pod.metadata?.uid === uid);
    let off: () => void = () => undefined;
    const deleted = new Promise<void>((resolve) => {
      off = this.watch.on((type, pod) => {
        if (type === 'DELETED' && pod.metadata?.name === name && sameUid(pod)) resolve();
      });
    });
    const deadline = Date.now() + timeoutMs;
    try {
      while (Date.now() < deadline) {
        const still = await this.readPod(name).catch((err: unknown) => {
          if (err instanceof KubernetesApiError && err.status === 404) return undefined;
          throw err;
        });
        if (!sameUid(still)) return;
        const outcome = await Promise.race([
          deleted.then(() => 'gone'),
          new Promise((r) => setTimeout(r, 2_000, 'check')),
        ]);
        if (outcome === 'gone') return;
      }
      // Kubernetes owns its end now (a node that went away keeps a Pod Terminating for minutes).
    } finally {
      off();
    }
  }
}

function withoutAlive(status: PodStatus): Pod {
  const { id, pool, cdpUrl, controlUrl, createdAt } = status;
  return { id, pool, cdpUrl, controlUrl, createdAt };
}
