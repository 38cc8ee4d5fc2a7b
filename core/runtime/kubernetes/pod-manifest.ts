/**
 * What a ventus pod is to Kubernetes: the Pod object the driver creates from its template, and how the
 * driver reads one back (id, pool, endpoint, readiness, liveness).
 */
import type { V1Pod, V1ResourceRequirements, V1Secret, V1Toleration } from '@kubernetes/client-node';
import type { EgressPolicy } from '../../security/egress-policy.ts';
import type { PodSpec, PodStatus, PoolPodTemplate } from '../driver.ts';
import {
  AGENT_SECRET_KEY,
  BROWSER_POD_SECURITY,
  BROWSER_VOLUMES,
  browserContainer,
} from './browser-container.ts';
import { RDA_POD_SECURITY, RDA_VOLUMES, rdaContainer, WINDOWS_NODE_SELECTOR } from './rda-container.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'ventus';
export const POOL_LABEL = 'ventus.io/pool';
/** The caller's pod id, verbatim (a ULID is upper case; a Pod name cannot be). */
export const POD_ID_LABEL = 'ventus.io/pod-id';
/** The pool name verbatim: a label value cannot hold every pool name. */
export const POOL_ANNOTATION = 'ventus.io/pool';
export const SESSION_ANNOTATION = 'ventus.io/session';
/**
 * Overrides the agent port for one Pod. The runtime image never sets it (the agent listens on 9222);
 * the test double's "kubelet" does, because all of its agents share one host (127.0.0.1).
 */
export const AGENT_PORT_ANNOTATION = 'ventus.io/agent-port';

/** Every pod this driver manages, in every pool. */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

/** How the pods of this driver are shaped by default; a pool's template overrides parts of it. */
export interface PodTemplate {
  /** The runtime image (it runs the pod agent, runtime-image/agent/main.ts). */
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  resources?: V1ResourceRequirements;
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  /** e.g. `gvisor` or `kata`: a sandboxed runtime for untrusted pages. */
  runtimeClassName?: string;
  /** Labels and annotations added to every pod (never overriding ventus's own). */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Pod-level terminationGracePeriodSeconds; the agent needs ~2 s to stop Chromium and wipe its dirs. */
  terminationGracePeriodSeconds?: number;
}

/** The driver's template with a pool's own settings on top (image, resources, placement). */
export function withPoolTemplate(base: PodTemplate, pool: PoolPodTemplate | undefined): PodTemplate {
  if (!pool) return base;
  return {
    ...base,
    ...(pool.image && { image: pool.image }),
    ...(pool.resources && { resources: pool.resources }),
    ...(pool.node_selector && { nodeSelector: pool.node_selector }),
    ...(pool.tolerations && { tolerations: pool.tolerations }),
    ...(pool.runtime_class && { runtimeClassName: pool.runtime_class }),
  };
}

/** The Pod name for a pod id: Pod names are lower-case RFC 1123 subdomains; the API rejects the rest. */
export function podName(id: string): string {
  return `ventus-${id.toLowerCase()}`;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** True when `name` could be a Pod name at all (GET/DELETE of anything else cannot find one). */
export function isValidPodName(name: string): boolean {
  return name.length <= 253 && DNS_SUBDOMAIN.test(name);
}

/** A label value for any string: at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric. */
export function labelValue(value: string): string {
  const cleaned = value
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return cleaned;
}

/** The name of the Kubernetes Secret that holds a pod's agent secret. */
export function agentSecretName(id: string): string {
  return `${podName(id)}-agent`;
}

/** Labels of everything the driver creates for one pod (its Pod and its Secret). */
function podLabels(spec: PodSpec, extra?: Record<string, string>): Record<string, string> {
  return {
    ...extra,
    [MANAGED_BY_LABEL]: MANAGED_BY,
    [POOL_LABEL]: labelValue(spec.pool),
    [POD_ID_LABEL]: spec.id,
  };
}

/**
 * The Secret of one pod: its agent secret (derived by the control plane from the pod id).
 * Created before the Pod (the kubelet reads it when it starts the container), owned by the Pod once
 * that exists; labelled like the Pod, so one left behind by a creator that died is found and deleted.
 */
export function buildAgentSecret(spec: PodSpec, secret: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: agentSecretName(spec.id),
      labels: podLabels(spec),
      annotations: { [POOL_ANNOTATION]: spec.pool },
    },
    data: { [AGENT_SECRET_KEY]: Buffer.from(secret, 'utf8').toString('base64') },
  };
}

/** What the agent in every Pod of a driver is told beyond the template. */
export interface PodAgentSettings {
  egress: EgressPolicy;
}

export function buildPodManifest(
  spec: PodSpec,
  template: PodTemplate,
  agent: PodAgentSettings,
  sessionId?: string,
): V1Pod {
  const annotations: Record<string, string> = { ...template.annotations, [POOL_ANNOTATION]: spec.pool };
  if (sessionId !== undefined) annotations[SESSION_ANNOTATION] = sessionId;
  const container = {
    image: template.image,
    ...(template.imagePullPolicy !== undefined && { imagePullPolicy: template.imagePullPolicy }),
    ...(template.resources !== undefined && { resources: template.resources }),
    podId: spec.id,
    headless: spec.headless,
    egress: agent.egress,
    secretName: agentSecretName(spec.id),
  };
  // The Windows RDA runtime: Windows nodes, its own container shape (rda-container.ts).
  const rda = spec.runtimeKind === 'rda';
  const nodeSelector = rda ? { ...WINDOWS_NODE_SELECTOR, ...template.nodeSelector } : template.nodeSelector;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName(spec.id), labels: podLabels(spec, template.labels), annotations },
    spec: {
      // Disposable: a pod whose browser died is replaced by the pool controller, never restarted.
      restartPolicy: 'Never',
      ...(rda
        ? { os: { name: 'windows' }, securityContext: RDA_POD_SECURITY }
        : {
            // A user namespace: uid 10001 in the container is an unmapped uid on the node.
            hostUsers: false,
            securityContext: BROWSER_POD_SECURITY,
          }),
      // Browser pods talk to no API server: no token, no Service environment variables.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: template.terminationGracePeriodSeconds ?? 10,
      ...(template.runtimeClassName !== undefined && { runtimeClassName: template.runtimeClassName }),
      ...(nodeSelector !== undefined && { nodeSelector }),
      ...(template.tolerations !== undefined && { tolerations: template.tolerations }),
      containers: [rda ? rdaContainer(container) : browserContainer(container)],
      volumes: rda ? RDA_VOLUMES : BROWSER_VOLUMES,
    },
  };
}

/** The ventus pod id of a Pod (the label; the name as a fallback for a hand-made one). */
export function podIdOf(pod: V1Pod): string {
  return pod.metadata?.labels?.[POD_ID_LABEL] ?? pod.metadata?.name ?? '';
}

/** Ready for a session: the Ready condition holds and the Pod has an IP to reach it at. */
export function isPodReady(pod: V1Pod): boolean {
  if (!pod.status?.podIP || pod.metadata?.deletionTimestamp) return false;
  return pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Why a Pod will never become ready (it ended or is going), or undefined while it still may. */
export function podFailure(pod: V1Pod): string | undefined {
  if (pod.metadata?.deletionTimestamp) return 'it is being deleted';
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') {
    const terminated = pod.status?.containerStatuses?.find((c) => c.state?.terminated)?.state?.terminated;
    const why = terminated ? ` (${terminated.reason ?? 'exit'} ${terminated.exitCode})` : '';
    return `it ended in phase ${phase}${why}${pod.status?.message ? `: ${pod.status.message}` : ''}`;
  }
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting;
  // Image pull failures never heal on their own within a pod start's budget.
  if (waiting && ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName'].includes(waiting.reason ?? '')) {
    return `its image cannot be pulled (${waiting.reason}: ${waiting.message ?? ''})`;
  }
  return undefined;
}

/** Running, not being deleted, no container terminated: the browser can still serve. */
export function isPodAlive(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Running') return false;
  return !(pod.status.containerStatuses ?? []).some((c) => c.state?.terminated !== undefined);
}

function urlHost(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

/**
 * The driver's view of a Pod. A Pod without an IP yet gets an unusable endpoint; it is only ever
 * reported once its creator gave up on it, so that the reaper deletes it.
 */
export function toPodStatus(pod: V1Pod, defaultPort: number): PodStatus {
  const annotations = pod.metadata?.annotations ?? {};
  const port = Number(annotations[AGENT_PORT_ANNOTATION] ?? defaultPort) || defaultPort;
  const base = `${urlHost(pod.status?.podIP ?? '0.0.0.0')}:${port}`;
  return {
    id: podIdOf(pod),
    pool: annotations[POOL_ANNOTATION] ?? pod.metadata?.labels?.[POOL_LABEL] ?? '',
    cdpUrl: `ws://${base}/devtools/browser`,
    controlUrl: `http://${base}`,
    createdAt: new Date(pod.metadata?.creationTimestamp ?? 0),
    alive: isPodAlive(pod),
  };
}
