/**
 * What a "pod" is to the rest of the system: one browser runtime, whatever runs it.
 * Every driver (local processes, Kubernetes Pods, simulated) implements this one interface,
 * and one conformance suite (test/runtime/driver.conformance.ts) runs against each.
 */

import type { PodSessionConfig, RestoredCounts } from '../../runtime-image/agent/protocol.ts';
import type { RuntimeKind } from '../domain/session.schema.ts';

export type {
  PodSessionConfig,
  PodProxyConfig,
  PodStorageState,
  RestoredCounts,
} from '../../runtime-image/agent/protocol.ts';

/**
 * The pod refused the session's settings for a reason retrying cannot fix (the upstream proxy
 * refused the credentials or is unreachable). `message` is safe to show the session's owner.
 */
export class SessionConfigRejectedError extends Error {
  override name = 'SessionConfigRejectedError';
}

/** A pool's pod template (see core/domain/pod-template.schema.ts); drivers that cannot use it ignore it. */
export interface PoolPodTemplate {
  image?: string;
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } };
  node_selector?: Record<string, string>;
  tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
  runtime_class?: string;
}

export interface PodSpec {
  /** Chosen by the caller before creation, so a crashed caller can find (or delete) the pod later. */
  id: string;
  pool: string;
  headless: boolean;
  /** What runs in the pod (default `chromium`); a driver that cannot run it refuses the pod. */
  runtimeKind?: RuntimeKind;
  /** The pool's pod template, when it has one. */
  template?: PoolPodTemplate;
}

export interface Pod {
  id: string;
  pool: string;
  /** WebSocket URL of the browser-level CDP endpoint (what the proxy pipes a client to). */
  cdpUrl: string;
  /** HTTP base URL of the pod's agent: /healthz, /json/version, POST /session. */
  controlUrl: string;
  createdAt: Date;
}

export interface PodStatus extends Pod {
  /** False once the pod's processes are gone (crashed or killed) but its record remains. */
  alive: boolean;
}

export interface RuntimeDriver {
  readonly kind: 'local' | 'kubernetes' | 'sim';
  /** Starts a pod and resolves once its CDP endpoint answers. Rejects (and cleans up) on failure. */
  createPod(spec: PodSpec, signal?: AbortSignal): Promise<Pod>;
  /** Every pod this driver knows of, including ones started by another process or before a restart. */
  listPods(): Promise<PodStatus[]>;
  /** One pod, or undefined when it does not exist. */
  getPod(id: string): Promise<PodStatus | undefined>;
  /** Health probe: true when the pod's browser answers CDP /json/version. */
  isHealthy(pod: Pod): Promise<boolean>;
  /**
   * Applies a session's settings inside the browser (persisting for every current and future page).
   * Resolves with what was restored when `config.storageState` is given, else undefined.
   */
  configureSession(pod: Pod, config: PodSessionConfig): Promise<RestoredCounts | undefined>;
  /** Stops the pod and wipes its user-data-dir. Idempotent: deleting a missing pod resolves. */
  deletePod(id: string): Promise<void>;
  /** Optional: records on the pod which session holds it (Kubernetes: a Pod annotation). */
  annotateSession?(id: string, sessionId: string): Promise<void>;
  close(): Promise<void>;
}
