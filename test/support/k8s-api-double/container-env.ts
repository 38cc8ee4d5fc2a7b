/**
 * The fake kubelet's view of a container: its environment resolved as a kubelet resolves it (plain
 * values; `secretKeyRef` read from the Secret in the API) on top of the runtime image's own ENV, and
 * its volume mounts as directories of the pod on this host (an env value under a mountPath is
 * mapped into the pod's directory, as the mount would make it appear).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectStore } from './object-store.ts';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}

export interface ContainerSpec {
  name: string;
  image: string;
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
}

export interface Probe {
  exec?: { command: string[] };
  httpGet?: { path?: string; port: number | string; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { port: number | string };
  periodSeconds?: number;
  timeoutSeconds?: number;
}

/** Why a container cannot start yet (a kubelet's CreateContainerConfigError), or its environment. */
export type ResolvedEnv = { env: Record<string, string> } | { error: string };

/** The container's own variables, `secretKeyRef` resolved from the Secrets in `store`. */
export function resolveEnv(store: ObjectStore, namespace: string, container: ContainerSpec): ResolvedEnv {
  const env: Record<string, string> = {};
  for (const v of container.env ?? []) {
    if (v.value !== undefined || v.valueFrom === undefined) {
      env[v.name] = v.value ?? '';
      continue;
    }
    const ref = v.valueFrom.secretKeyRef;
    if (!ref) return { error: `unsupported valueFrom for ${v.name}` };
    const secret = store.get('secrets', namespace, ref.name);
    const encoded = (secret?.data as Record<string, string> | undefined)?.[ref.key];
    if (encoded === undefined) {
      if (ref.optional) continue;
      return {
        error: secret
          ? `couldn't find key ${ref.key} in Secret ${namespace}/${ref.name}`
          : `secret "${ref.name}" not found`,
      };
    }
    env[v.name] = Buffer.from(encoded, 'base64').toString('utf8');
  }
  return { env };
}

/** Each mount as a directory under `podDir`; returns mountPath → host directory. */
export function makeMounts(podDir: string, container: ContainerSpec): Map<string, string> {
  const mounts = new Map<string, string>();
  for (const m of container.volumeMounts ?? []) {
    // /dev/shm is the host's own here; every other mount gets a fresh directory.
    if (m.mountPath === '/dev/shm') continue;
    const dir = join(podDir, 'volumes', m.name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    mounts.set(m.mountPath, dir);
  }
  return mounts;
}

/** `value` with a leading mountPath replaced by the mount's directory on this host. */
export function mapPath(mounts: Map<string, string>, value: string): string {
  for (const [mountPath, dir] of mounts) {
    if (value === mountPath || value.startsWith(`${mountPath}/`)) return dir + value.slice(mountPath.length);
  }
  return value;
}
