/**
 * What a "pod" is to the rest of the system: one browser runtime, whatever runs it.
 * Every driver (local processes, Kubernetes Pods, simulated) implements this one interface,
 * and one conformance suite (test/runtime/driver.conformance.ts) runs against each.
 */

/** Session settings applied inside the browser when a pod is handed to a session. */
export interface PodSessionConfig {
  viewport?: { width: number; height: number };
  userAgent?: string;
  /** Cookies and localStorage to restore before the session is handed over (Playwright's shape). */
  storageState?: PodStorageState;
  /** Upstream HTTP proxy for all of the browser's traffic; the agent checks it before answering. */
  proxy?: PodProxyConfig;
  /** Record the session (screencast to WebM, pod-agent/pod.recording.ts); stopped at teardown. */
  recording?: { enabled: boolean };
}

/** A session's upstream proxy. The password travels only to the pod's agent, never into a log. */
export interface PodProxyConfig {
  url: string;
  username?: string;
  password?: string;
}

/**
 * The pod refused the session's settings for a reason retrying cannot fix (the upstream proxy
 * refused the credentials or is unreachable). `message` is safe to show the session's owner.
 */
export class SessionConfigRejectedError extends Error {
  override name = 'SessionConfigRejectedError';
}

/** Playwright's storage_state shape (the API's), declared here so the pod agent needs no schema library. */
export interface PodStorageState {
  cookies?: {
    name: string;
    value: string;
    domain?: string;
    path?: string;
    url?: string;
    /** Unix seconds; -1 (or absent) is a session cookie. */
    expires?: number;
    httpOnly?: boolean;
    secure?: boolean;
    sameSite?: 'Strict' | 'Lax' | 'None';
  }[];
  origins?: { origin: string; localStorage: { name: string; value: string }[] }[];
}

/** What POST /session restored: counts only, never values. */
export interface RestoredCounts {
  cookies: number;
  origins: { origin: string; localStorageItems: number }[];
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
