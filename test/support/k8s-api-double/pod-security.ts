/**
 * Pod Security admission at the `restricted` level, as the API server enforces it in a namespace
 * labelled `pod-security.kubernetes.io/enforce: restricted` (the chart labels the browser namespace
 * so): the checks of https://kubernetes.io/docs/concepts/security/pod-security-standards/ (baseline
 * and restricted) that a Pod spec can fail, worded as the admission plugin words them.
 */
import { status, type KubeStatus } from './validation.ts';
import type { KubeObject } from './object-store.ts';

interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
  procMount?: string;
}

interface Container {
  name: string;
  securityContext?: SecurityContext;
  ports?: { hostPort?: number }[];
}

const ALLOWED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

function containerViolations(pod: SecurityContext, containers: Container[]): string[] {
  const found: string[] = [];
  const each = (what: string, bad: (c: Container, sc: SecurityContext) => boolean, fix: string): void => {
    const names = containers.filter((c) => bad(c, c.securityContext ?? {})).map((c) => `"${c.name}"`);
    if (names.length > 0) found.push(`${what} (container ${names.join(', ')} must ${fix})`);
  };
  each('privileged', (_c, sc) => sc.privileged === true, 'not set securityContext.privileged=true');
  each(
    'allowPrivilegeEscalation != false',
    (_c, sc) => sc.allowPrivilegeEscalation !== false,
    'set securityContext.allowPrivilegeEscalation=false',
  );
  each(
    'unrestricted capabilities',
    (_c, sc) =>
      !(sc.capabilities?.drop ?? []).includes('ALL') ||
      (sc.capabilities?.add ?? []).some((cap) => cap !== 'NET_BIND_SERVICE'),
    'set securityContext.capabilities.drop=["ALL"]',
  );
  each(
    'runAsNonRoot != true',
    (_c, sc) => (sc.runAsNonRoot ?? pod.runAsNonRoot) !== true,
    'set securityContext.runAsNonRoot=true',
  );
  each('runAsUser=0', (_c, sc) => (sc.runAsUser ?? pod.runAsUser) === 0, 'not set runAsUser=0');
  each(
    'seccompProfile',
    (_c, sc) =>
      !['RuntimeDefault', 'Localhost'].includes(sc.seccompProfile?.type ?? pod.seccompProfile?.type ?? ''),
    'set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
  );
  each('procMount', (_c, sc) => (sc.procMount ?? 'Default') !== 'Default', 'not set procMount');
  each('hostPort', (c) => (c.ports ?? []).some((p) => (p.hostPort ?? 0) !== 0), 'not use hostPort');
  return found;
}

/** Undefined when `restricted` admits the Pod; else the 403 Forbidden Status the API server answers. */
export function restrictedViolation(object: KubeObject): KubeStatus | undefined {
  const spec = object.spec ?? {};
  const found: string[] = [];
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (spec[field] === true) found.push(`host namespaces (${field}=true)`);
  }
  const volumes = (spec.volumes ?? []) as Record<string, unknown>[];
  const restrictedVolumes = volumes.filter((v) => !Object.keys(v).some((k) => ALLOWED_VOLUMES.has(k)));
  if (restrictedVolumes.length > 0) {
    found.push(
      `restricted volume types (volumes ${restrictedVolumes.map((v) => `"${String(v.name)}"`).join(', ')})`,
    );
  }
  const containers = [
    ...((spec.initContainers ?? []) as Container[]),
    ...((spec.containers ?? []) as Container[]),
  ];
  found.push(...containerViolations(spec.securityContext ?? {}, containers));
  if (found.length === 0) return undefined;
  const name = object.metadata?.name ?? '';
  return status(
    403,
    'Forbidden',
    `pods ${JSON.stringify(name)} is forbidden: violates PodSecurity "restricted:latest": ${found.join(', ')}`,
    { name, kind: 'pods' },
  );
}
