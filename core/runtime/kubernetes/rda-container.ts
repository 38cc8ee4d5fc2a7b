/**
 * The Windows RDA runtime's Pod shape (runtime_kind `rda`): the pool's own image on Windows nodes,
 * speaking the same pod agent protocol as the Chromium runtime (docs/agent-protocol.md). Windows
 * containers take none of Linux's security knobs (seccomp, capabilities, user namespaces, read-only
 * root); they run as the unprivileged `ContainerUser`, with a disposable scratch volume.
 */
import type { V1Container, V1PodSecurityContext, V1Volume } from '@kubernetes/client-node';
import { AGENT_SECRET_ENV } from '../../../runtime-image/agent/protocol.ts';
import { AGENT_SECRET_KEY, DEFAULT_AGENT_PORT, type BrowserContainerOptions } from './browser-container.ts';

/** Where Windows pods schedule; a pool's own node_selector adds to it. */
export const WINDOWS_NODE_SELECTOR = { 'kubernetes.io/os': 'windows' } as const;

/**
 * The health check an RDA image ships on its PATH (docs/agent-protocol.md): exits 0 when the agent
 * answers GET /healthz (with the pod's secret) with 200. A kubelet httpGet probe cannot send the secret.
 */
export const RDA_HEALTH_COMMAND = ['ventus-agent-healthcheck'];

const DATA_DIR = 'C:\\data';

export const RDA_POD_SECURITY: V1PodSecurityContext = {
  runAsNonRoot: true,
  windowsOptions: { runAsUserName: 'ContainerUser' },
};

export const RDA_VOLUMES: V1Volume[] = [{ name: 'data', emptyDir: { sizeLimit: '4Gi' } }];

export function rdaContainer(o: BrowserContainerOptions): V1Container {
  const probe = { exec: { command: RDA_HEALTH_COMMAND }, timeoutSeconds: 3 };
  return {
    name: 'browser',
    image: o.image,
    ...(o.imagePullPolicy !== undefined && { imagePullPolicy: o.imagePullPolicy }),
    ...(o.resources !== undefined && { resources: o.resources }),
    ports: [{ name: 'cdp', containerPort: DEFAULT_AGENT_PORT, protocol: 'TCP' }],
    env: [
      { name: 'POD_ID', value: o.podId },
      { name: 'AGENT_HOST', value: '0.0.0.0' },
      { name: 'AGENT_PORT', value: String(DEFAULT_AGENT_PORT) },
      { name: 'HEADLESS', value: String(o.headless) },
      { name: 'USER_DATA_DIR', value: `${DATA_DIR}\\user-data` },
      { name: 'SCRATCH_DIR', value: `${DATA_DIR}\\scratch` },
      { name: 'VENTUS_EGRESS_ALLOW', value: o.egress.allow.join(',') },
      { name: 'VENTUS_EGRESS_ALLOW_PRIVATE', value: String(o.egress.allowPrivate) },
      {
        name: AGENT_SECRET_ENV,
        valueFrom: { secretKeyRef: { name: o.secretName, key: AGENT_SECRET_KEY, optional: false } },
      },
    ],
    // Windows images start slower than Linux ones: up to 5 minutes before the agent first answers.
    startupProbe: { ...probe, periodSeconds: 2, failureThreshold: 150 },
    readinessProbe: { ...probe, periodSeconds: 5, failureThreshold: 2 },
    volumeMounts: [{ name: 'data', mountPath: DATA_DIR }],
  };
}
