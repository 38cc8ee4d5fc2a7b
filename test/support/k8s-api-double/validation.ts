/**
 * What the double rejects, as a real API server would: the OpenAPI schema of the kind (from
 * `kubernetes-models`, generated from Kubernetes' own), plus the checks the API server does in code
 * that no schema carries (name formats, a container's image, label syntax, Pod spec immutability,
 * Secret data keys and encoding).
 * Every failure is a Kubernetes `Status` (422 Invalid) with the API server's wording.
 */
import { Lease } from 'kubernetes-models/coordination.k8s.io/v1/Lease';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import type { KubeObject } from './object-store.ts';

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; kind?: string; causes?: { field: string; message: string }[] };
  code: number;
}

export function status(
  code: number,
  reason: string,
  message: string,
  details?: KubeStatus['details'],
): KubeStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
    ...(details && { details }),
  };
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

type Cause = { field: string; message: string };

function checkName(field: string, name: unknown, causes: Cause[]): void {
  if (typeof name !== 'string' || name === '') {
    causes.push({ field, message: 'Required value: name or generateName is required' });
  } else if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    causes.push({ field, message: `Invalid value: ${JSON.stringify(name)}: ${SUBDOMAIN_MSG}` });
  }
}

function checkLabels(labels: Record<string, string> | undefined, causes: Cause[]): void {
  for (const [k, v] of Object.entries(labels ?? {})) {
    const [prefix, name] = k.includes('/') ? k.split('/', 2) : [undefined, k];
    if (
      !name ||
      name.length > 63 ||
      !QUALIFIED_NAME.test(name) ||
      (prefix !== undefined && !DNS1123_SUBDOMAIN.test(prefix))
    ) {
      causes.push({
        field: 'metadata.labels',
        message: `Invalid value: ${JSON.stringify(k)}: invalid label key`,
      });
    }
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
      causes.push({
        field: 'metadata.labels',
        message: `Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
      });
    }
  }
}

function schemaCauses(validate: () => void): Cause[] {
  try {
    validate();
    return [];
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Ajv's "data/spec/containers/0 must have required property name" as the API server words it.
    return message.split(', ').map((m) => {
      const [path = '', ...rest] = m.split(' ');
      const field = path
        .replace(/^data\/?/, '')
        .replace(/\/(\d+)/g, '[$1]')
        .replace(/\//g, '.');
      return { field: field || '<root>', message: `Invalid value: ${rest.join(' ')}` };
    });
  }
}

function invalid(kind: string, name: string, causes: Cause[]): KubeStatus {
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return status(422, 'Invalid', `${kind} ${JSON.stringify(name)} is invalid: ${text}`, {
    name,
    kind: kind.toLowerCase() + 's',
    causes,
  });
}

interface Container {
  name?: unknown;
  image?: unknown;
}

/** Undefined when a Pod may be created; else the Status to answer. */
export function validatePod(object: KubeObject): KubeStatus | undefined {
  const causes: Cause[] = [];
  checkName('metadata.name', object.metadata?.name, causes);
  checkLabels(object.metadata?.labels, causes);
  causes.push(...schemaCauses(() => new Pod(object as never).validate()));
  const containers = (object.spec?.containers ?? []) as Container[];
  if (object.spec && containers.length === 0) {
    causes.push({ field: 'spec.containers', message: 'Required value' });
  }
  const names = new Set<unknown>();
  containers.forEach((c, i) => {
    if (typeof c.name === 'string' && (c.name.length > 63 || !DNS1123_LABEL.test(c.name))) {
      causes.push({
        field: `spec.containers[${i}].name`,
        message: `Invalid value: ${JSON.stringify(c.name)}: ${LABEL_MSG}`,
      });
    }
    if (names.has(c.name))
      causes.push({
        field: `spec.containers[${i}].name`,
        message: `Duplicate value: ${JSON.stringify(c.name)}`,
      });
    names.add(c.name);
    // Optional in the schema (a Deployment's template may leave it to a mutating webhook), required for a Pod.
    if (typeof c.image !== 'string' || c.image.trim() === '') {
      causes.push({ field: `spec.containers[${i}].image`, message: 'Required value' });
    }
  });
  return causes.length > 0 ? invalid('Pod', String(object.metadata?.name ?? ''), causes) : undefined;
}

/** A Pod update may change metadata labels/annotations and container images, nothing else of the spec. */
export function validatePodUpdate(before: KubeObject, after: KubeObject): KubeStatus | undefined {
  const created = validatePod(after);
  if (created) return created;
  const withoutImages = (o: KubeObject): string =>
    JSON.stringify({
      ...o.spec,
      containers: (o.spec?.containers as Container[]).map((c) => ({ ...c, image: '' })),
    });
  if (withoutImages(before) !== withoutImages(after)) {
    return invalid('Pod', before.metadata.name, [
      {
        field: 'spec',
        message:
          'Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations), `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      },
    ]);
  }
  return undefined;
}

export function validateLease(object: KubeObject): KubeStatus | undefined {
  const causes: Cause[] = [];
  checkName('metadata.name', object.metadata?.name, causes);
  checkLabels(object.metadata?.labels, causes);
  causes.push(...schemaCauses(() => new Lease(object).validate()));
  return causes.length > 0 ? invalid('Lease', String(object.metadata?.name ?? ''), causes) : undefined;
}

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * Undefined when a Secret may be stored; else the Status to answer. Expects `stringData` already
 * folded into `data` (see toStoredSecret), as the API server does before it validates.
 */
export function validateSecret(object: KubeObject): KubeStatus | undefined {
  const causes: Cause[] = [];
  checkName('metadata.name', object.metadata?.name, causes);
  checkLabels(object.metadata?.labels, causes);
  causes.push(...schemaCauses(() => new Secret(object).validate()));
  for (const [key, value] of Object.entries((object.data ?? {}) as Record<string, unknown>)) {
    if (!SECRET_KEY.test(key) || key.length > 253) {
      causes.push({
        field: `data[${key}]`,
        message: `Invalid value: ${JSON.stringify(key)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
      });
    }
    if (typeof value !== 'string' || Buffer.from(value, 'base64').toString('base64') !== value) {
      causes.push({ field: `data[${key}]`, message: 'Invalid value: illegal base64 data' });
    }
  }
  return causes.length > 0 ? invalid('Secret', String(object.metadata?.name ?? ''), causes) : undefined;
}

/** As the API server stores a Secret: `stringData` is write-only, merged into `data` (base64). */
export function toStoredSecret(object: KubeObject): KubeObject {
  const { stringData, ...rest } = object as KubeObject & { stringData?: Record<string, string> };
  if (stringData === undefined) return object;
  const data = { ...(rest.data as Record<string, string> | undefined) };
  for (const [key, value] of Object.entries(stringData)) data[key] = Buffer.from(value).toString('base64');
  return { ...rest, data };
}
