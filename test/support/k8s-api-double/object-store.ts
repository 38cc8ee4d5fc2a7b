/**
 * The test double's "etcd": objects per resource and namespace, one global resourceVersion counter,
 * an event history that watches replay from a resourceVersion, and compaction (a watch from a
 * version older than the compacted one gets 410 Gone, as from a real API server).
 */
import { randomUUID } from 'node:crypto';
import { matchesSelector, type LabelSelector } from './label-selector.ts';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  resource: string;
  namespace: string;
  object: KubeObject;
  rv: number;
}

export type StoreListener = (event: StoreEvent) => void;

const HISTORY_LIMIT = 10_000;

export class ObjectStore {
  private rv = 1;
  private readonly objects = new Map<string, KubeObject>();
  private history: StoreEvent[] = [];
  /** A watch from a resourceVersion below this one is answered 410 Gone. */
  private compactedBelow = 0;
  private readonly listeners = new Set<StoreListener>();

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Every change, in order; what watches and the kubelet follow. */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(resource: string, namespace: string, name: string): KubeObject | undefined {
    const found = this.objects.get(key(resource, namespace, name));
    return found && structuredClone(found);
  }

  list(resource: string, namespace: string, selector: LabelSelector): KubeObject[] {
    const prefix = `${resource}/${namespace}/`;
    return [...this.objects.entries()]
      .filter(([k, o]) => k.startsWith(prefix) && matchesSelector(selector, o.metadata.labels))
      .map(([, o]) => structuredClone(o));
  }

  /** Stores a new object (the caller checked it does not exist), filling server-set metadata. */
  create(resource: string, namespace: string, object: KubeObject): KubeObject {
    const stored = structuredClone(object);
    stored.metadata = {
      ...stored.metadata,
      namespace,
      uid: randomUUID(),
      // Real API servers keep whole seconds.
      creationTimestamp: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000', ''),
    };
    return this.commit('ADDED', resource, namespace, stored);
  }

  /** Replaces a stored object, bumping its resourceVersion. */
  update(resource: string, namespace: string, object: KubeObject): KubeObject {
    return this.commit('MODIFIED', resource, namespace, structuredClone(object));
  }

  /** Applies `mutate` to the stored object, if it still exists. */
  modify(
    resource: string,
    namespace: string,
    name: string,
    mutate: (o: KubeObject) => void,
  ): KubeObject | undefined {
    const current = this.get(resource, namespace, name);
    if (!current) return undefined;
    mutate(current);
    return this.update(resource, namespace, current);
  }

  remove(resource: string, namespace: string, name: string): KubeObject | undefined {
    const current = this.get(resource, namespace, name);
    if (!current) return undefined;
    return this.commit('DELETED', resource, namespace, current);
  }

  /**
   * Events after `fromRv` for a watch, or 'expired' when history no longer reaches back that far.
   */
  eventsSince(fromRv: number, resource: string, namespace: string): StoreEvent[] | 'expired' {
    if (fromRv < this.compactedBelow) return 'expired';
    return this.history.filter((e) => e.rv > fromRv && e.resource === resource && e.namespace === namespace);
  }

  /** Forgets all history: every watch resuming from a version seen so far gets 410 Gone. */
  compact(): void {
    this.history = [];
    this.compactedBelow = this.rv + 1;
  }

  private commit(type: WatchEventType, resource: string, namespace: string, object: KubeObject): KubeObject {
    this.rv++;
    object.metadata.resourceVersion = String(this.rv);
    const k = key(resource, namespace, object.metadata.name);
    if (type === 'DELETED') this.objects.delete(k);
    else this.objects.set(k, object);
    const event: StoreEvent = { type, resource, namespace, object: structuredClone(object), rv: this.rv };
    this.history.push(event);
    if (this.history.length > HISTORY_LIMIT) {
      const dropped = this.history.shift()!;
      this.compactedBelow = dropped.rv;
    }
    for (const listener of this.listeners) listener(event);
    return structuredClone(object);
  }
}

function key(resource: string, namespace: string, name: string): string {
  return `${resource}/${namespace}/${name}`;
}
