/**
 * The browser container of a ventus Pod and the box it runs in: the runtime image's agent with its
 * environment (the pod's own secret from its Kubernetes Secret, the operator's egress policy,
 * Chromium's sandbox off), probes that present the secret, and a security context that Pod Security
 * `restricted` admits: non-root, no capabilities, RuntimeDefault seccomp, a read-only root with sized
 * emptyDirs and an ephemeral-storage limit.
 */
import type {
  V1Container,
  V1EnvVar,
  V1PodSecurityContext,
  V1Probe,
  V1ResourceRequirements,
  V1Volume,
} from '@kubernetes/client-node';
import { AGENT_SECRET_ENV, AGENT_SECRET_HEADER } from '../../../runtime-image/agent/protocol.ts';
import { SANDBOX_DEVTOOLS_PORT } from '../../../runtime-image/agent/browser.sandbox.ts';
import type { EgressPolicy } from '../../security/egress-policy.ts';

export const DEFAULT_AGENT_PORT = 9222;
/** The runtime image's `ventus` user and group (runtime-image/Dockerfile). */
export const RUNTIME_UID = 10001;
/** The key that holds the pod's agent secret in its Kubernetes Secret. */
export const AGENT_SECRET_KEY = 'agent-secret';

/**
 * What every probe of the agent runs inside the container, and what the runtime image's Docker
 * HEALTHCHECK runs too (runtime-image/Dockerfile repeats it; test/runtime-image/ checks they agree):
 * GET /healthz with the pod's secret from the container's environment, passing on a 200. An exec
 * probe, because a kubelet's httpGet probe cannot put a Secret's value in a header, and the agent
 * answers nobody without it. (The agent drops the secret from its own environment; the container's
 * keeps it.) Bash's /dev/tcp, not `node -e`: a probe every few seconds in every pod must cost next to
 * nothing, and Node's start alone costs ~0.1 s of CPU.
 */
export const AGENT_HEALTH_SCRIPT =
  `exec 3<>/dev/tcp/127.0.0.1/"\${AGENT_PORT:-${DEFAULT_AGENT_PORT}}"` +
  ` && printf 'GET /healthz HTTP/1.0\\r\\n${AGENT_SECRET_HEADER}: %s\\r\\n\\r\\n' "$${AGENT_SECRET_ENV}" >&3` +
  ` && IFS= read -r -t 2 status <&3 && [[ $status == 'HTTP/1.1 200 '* ]]`;

/** The probe's command, as the Pod's exec probes and the image's HEALTHCHECK (exec form) run it. */
export const AGENT_HEALTH_COMMAND = ['bash', '-c', AGENT_HEALTH_SCRIPT];

const DATA_DIR = '/data';

/** Writable places under the read-only root, each an emptyDir with a size the kubelet enforces. */
const SCRATCH_MOUNTS = [
  // The user-data-dir, Chromium's HOME and the recording scratch: everything of a session.
  { name: 'data', mountPath: DATA_DIR, sizeLimit: '2Gi' },
  // The agent's private TMPDIR for Chromium, Xvfb's sockets and lock files.
  { name: 'tmp', mountPath: '/tmp', sizeLimit: '256Mi' },
  // The image's HOME (the window manager writes its cache there).
  { name: 'home', mountPath: '/home/ventus', sizeLimit: '64Mi' },
] as const;

/** The container's disk: the emptyDirs above plus its logs; requested small, limited at their sum. */
const EPHEMERAL_STORAGE = { request: '512Mi', limit: '3Gi' };

export const BROWSER_VOLUMES: V1Volume[] = [
  ...SCRATCH_MOUNTS.map(({ name, sizeLimit }) => ({ name, emptyDir: { sizeLimit } })),
  // Chromium's shared memory; the container runtime's default 64 MiB crashes busy tabs.
  { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } },
];

/**
 * The Pod's security context. Chromium runs with its own sandbox off (CHROMIUM_SANDBOX=false): its
 * namespace sandbox needs user namespaces that RuntimeDefault seccomp refuses an unprivileged
 * container, and its setuid helper needs privilege escalation. The container is the boundary.
 */
export const BROWSER_POD_SECURITY: V1PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUNTIME_UID,
  runAsGroup: RUNTIME_UID,
  fsGroup: RUNTIME_UID,
  seccompProfile: { type: 'RuntimeDefault' },
};

export interface BrowserContainerOptions {
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  resources?: V1ResourceRequirements;
  podId: string;
  headless: boolean;
  /** What pages may reach: the agent's forwarding proxy applies it (VENTUS_EGRESS_*). */
  egress: EgressPolicy;
  /** The Kubernetes Secret holding the pod's agent secret under AGENT_SECRET_KEY. */
  secretName: string;
}

function agentEnv(o: BrowserContainerOptions): V1EnvVar[] {
  return [
    { name: 'POD_ID', value: o.podId },
    { name: 'AGENT_HOST', value: '0.0.0.0' },
    { name: 'AGENT_PORT', value: String(DEFAULT_AGENT_PORT) },
    { name: 'HEADLESS', value: String(o.headless) },
    // Both on the emptyDir: nothing of a session survives its pod.
    { name: 'USER_DATA_DIR', value: `${DATA_DIR}/user-data` },
    { name: 'SCRATCH_DIR', value: `${DATA_DIR}/scratch` },
    { name: 'CHROMIUM_SANDBOX', value: 'false' },
    // A bad port: no page, not even one in a direct:// context, may fetch it (browser.sandbox.ts).
    { name: 'DEVTOOLS_PORT', value: String(SANDBOX_DEVTOOLS_PORT) },
    { name: 'VENTUS_EGRESS_ALLOW', value: o.egress.allow.join(',') },
    { name: 'VENTUS_EGRESS_ALLOW_PRIVATE', value: String(o.egress.allowPrivate) },
    // Read by the kubelet from the Secret when it starts the container: never in the Pod object.
    {
      name: AGENT_SECRET_ENV,
      valueFrom: { secretKeyRef: { name: o.secretName, key: AGENT_SECRET_KEY, optional: false } },
    },
  ];
}

const healthProbe: V1Probe = {
  exec: { command: AGENT_HEALTH_COMMAND },
  timeoutSeconds: 3,
};

function withStorage(resources: V1ResourceRequirements | undefined): V1ResourceRequirements {
  return {
    ...resources,
    requests: { 'ephemeral-storage': EPHEMERAL_STORAGE.request, ...resources?.requests },
    limits: { 'ephemeral-storage': EPHEMERAL_STORAGE.limit, ...resources?.limits },
  };
}

export function browserContainer(o: BrowserContainerOptions): V1Container {
  return {
    name: 'browser',
    image: o.image,
    ...(o.imagePullPolicy !== undefined && { imagePullPolicy: o.imagePullPolicy }),
    resources: withStorage(o.resources),
    ports: [{ name: 'cdp', containerPort: DEFAULT_AGENT_PORT, protocol: 'TCP' }],
    env: agentEnv(o),
    // Every second until the agent first answers, then every 5 s.
    startupProbe: { ...healthProbe, periodSeconds: 1, failureThreshold: 120 },
    readinessProbe: { ...healthProbe, periodSeconds: 5, failureThreshold: 2 },
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      ...SCRATCH_MOUNTS.map(({ name, mountPath }) => ({ name, mountPath })),
      { name: 'shm', mountPath: '/dev/shm' },
    ],
  };
}
