/**
 * One shared list + watch of the driver's Pods (label selector), instead of a polling loop per pod:
 * a cache of the latest object per Pod name and change notifications, from which createPod learns
 * readiness and deletePod learns that a Pod is gone.
 *
 * The watch resumes from the last resourceVersion it saw. When the API server has compacted that
 * version away (410 Gone, as an HTTP status or as an ERROR event in the stream) it lists afresh and
 * watches from the list's version; a list synthesises DELETED for what vanished in between. Any
 * other failure (network, 5xx) backs off exponentially before the next attempt.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Watch, type CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { backoffDelay, statusOf, type ApiCalls, type RetryPolicy } from './api-calls.ts';

export type PodEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type PodListener = (type: PodEventType, pod: V1Pod) => void;

export interface PodWatchOptions {
  kubeConfig: KubeConfig;
  api: CoreV1Api;
  calls: ApiCalls;
  namespace: string;
  labelSelector: string;
  /** Backoff between failed list/watch attempts (attempts is ignored: the watch never gives up). */
  retry: RetryPolicy;
  /** Ask the server to end each watch after this long, so a silently dead connection is replaced. */
  watchTimeoutSeconds?: number;
  onError?: (err: unknown) => void;
}

class WatchExpired extends Error {
  override name = 'WatchExpired';
}

export class PodWatch {
  private readonly pods = new Map<string, V1Pod>();
  private readonly listeners = new Set<PodListener>();
  private resourceVersion: string | undefined;
  private running: Promise<void> | undefined;
  private firstList: Promise<void> | undefined;
  private readonly stopper = new AbortController();
  private current: AbortController | undefined;
  /** How many times the watch was re-listed after 410 Gone (for tests). */
  relists = 0;

  constructor(private readonly options: PodWatchOptions) {}

  /** Starts the loop once; resolves after the first successful list. */
  start(): Promise<void> {
    if (!this.firstList) {
      let listed!: () => void;
      this.firstList = new Promise<void>((resolve) => (listed = resolve));
      this.running = this.loop(listed);
    }
    return this.firstList;
  }

  /** The latest object seen for `name`, or undefined. */
  get(name: string): V1Pod | undefined {
    return this.pods.get(name);
  }

  on(listener: PodListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    this.current?.abort();
    await this.running;
  }

  private async loop(listed: () => void): Promise<void> {
    let mustList = true;
    let failures = 0;
    while (!this.stopper.signal.aborted) {
      try {
        if (mustList) {
          await this.list();
          mustList = false;
          listed();
        }
        await this.watchOnce();
        failures = 0; // the server ended a healthy watch (timeout): resume from the last version
      } catch (err) {
        if (this.stopper.signal.aborted) break;
        if (err instanceof WatchExpired || statusOf(err) === 410) {
          this.relists++;
          mustList = true;
          continue;
        }
        this.options.onError?.(err);
        const delay = backoffDelay(failures++, this.options.retry);
        await sleep(delay, undefined, { signal: this.stopper.signal }).catch(() => undefined);
      }
    }
  }

  private async list(): Promise<void> {
    const { api, calls, namespace, labelSelector } = this.options;
    const list = await calls.run('list pods', () => api.listNamespacedPod({ namespace, labelSelector }));
    const seen = new Set<string>();
    for (const pod of list.items) {
      const name = pod.metadata?.name;
      if (!name) continue;
      seen.add(name);
      this.apply(this.pods.has(name) ? 'MODIFIED' : 'ADDED', pod);
    }
    for (const [name, pod] of this.pods) if (!seen.has(name)) this.apply('DELETED', pod);
    this.resourceVersion = list.metadata?.resourceVersion;
  }

  private async watchOnce(): Promise<void> {
    const { kubeConfig, namespace, labelSelector } = this.options;
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
    const query: Record<string, string | number | boolean> = {
      labelSelector,
      allowWatchBookmarks: true,
      timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
    };
    if (this.resourceVersion) query.resourceVersion = this.resourceVersion;
    await new Promise<void>((resolve, reject) => {
      let failure: Error | undefined;
      const done = (err: unknown): void => {
        if (failure) reject(failure);
        else if (err && !this.stopper.signal.aborted)
          reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
        else resolve();
      };
      const onEvent = (type: string, object: unknown): void => {
        if (failure) return;
        if (type === 'ERROR') {
          const status = object as { code?: number; message?: string };
          failure =
            status.code === 410
              ? new WatchExpired(status.message ?? 'resourceVersion expired')
              : Object.assign(new Error(`watch error: ${status.message ?? status.code}`), {
                  statusCode: status.code,
                });
          this.current?.abort();
          return;
        }
        const pod = object as V1Pod;
        if (pod.metadata?.resourceVersion) this.resourceVersion = pod.metadata.resourceVersion;
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.apply(type, pod);
      };
      new Watch(kubeConfig)
        .watch(path, query, onEvent, done)
        .then((controller) => {
          this.current = controller;
          if (this.stopper.signal.aborted) controller.abort();
        })
        .catch(done);
    });
  }

  private apply(type: PodEventType, pod: V1Pod): void {
    const name = pod.metadata?.name;
    if (!name) return;
    if (type === 'DELETED') this.pods.delete(name);
    else this.pods.set(name, pod);
    for (const listener of this.listeners) listener(type, pod);
  }
}
