/**
 * Which hosts a session may point its browser's plumbing at (the upstream `proxy.url`, the origins
 * and cookie URLs of a `storage_state`). A hosted pod sits inside the operator's network: loopback
 * is the pod (its agent, its relay), link-local holds the cloud metadata service, and the private
 * ranges are the cluster (Postgres, Redis, the Kubernetes API). None of them is a customer's
 * proxy, so they are refused with 422 unless the operator allows them (VENTUS_ALLOW_PRIVATE_TARGETS,
 * for local development and tests). Cloud metadata endpoints are refused even then.
 *
 * Only literal addresses and well-known names are judged here; a public name that resolves to a
 * private address (DNS rebinding) is a network-policy matter (docs/security.md). Pure: no I/O.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type TargetClass = 'metadata' | 'loopback' | 'link-local' | 'unspecified' | 'private' | 'public';

const METADATA_NAMES = new Set([
  'metadata.google.internal',
  'metadata',
  'instance-data',
  'metadata.azure.com',
]);
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', 'fd00:ec2::254']);

function v4Octets(address: string): number[] {
  return address.split('.').map(Number);
}

function classifyV4(address: string): TargetClass {
  if (METADATA_ADDRESSES.has(address)) return 'metadata';
  const [a = 0, b = 0] = v4Octets(address);
  if (a === 127) return 'loopback';
  if (a === 0) return 'unspecified';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  // Carrier-grade NAT (100.64/10) is how several clouds number their internal services.
  if (a === 100 && b >= 64 && b <= 127) return 'private';
  return 'public';
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted quad folded in). */
function v6Groups(address: string): number[] {
  let text = address.toLowerCase().split('%')[0]!;
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const [a = 0, b = 0, c = 0, d = 0] = v4Octets(quad[1]!);
    text = `${text.slice(0, -quad[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function classifyV6(address: string): TargetClass {
  const g = v6Groups(address);
  const text = g.map((n) => n.toString(16)).join(':');
  if (text === '0:0:0:0:0:0:0:1') return 'loopback';
  if (text === '0:0:0:0:0:0:0:0') return 'unspecified';
  if (text === 'fd00:ec2:0:0:0:0:0:254') return 'metadata';
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses reach the IPv4 host.
  if (g.slice(0, 5).every((n) => n === 0) && (g[5] === 0xffff || g[5] === 0)) {
    const hi = g[6] ?? 0;
    const lo = g[7] ?? 0;
    return classifyV4(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  const first = g[0] ?? 0;
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  if ((first & 0xfe00) === 0xfc00) return 'private';
  return 'public';
}

/** What kind of network `hostname` (a URL's hostname: IPv6 in brackets or not) names. */
export function classifyHost(hostname: string): TargetClass {
  const host = hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '')
    .toLowerCase();
  if (isIPv4(host)) return classifyV4(host);
  if (isIPv6(host)) return classifyV6(host);
  if (METADATA_NAMES.has(host)) return 'metadata';
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  return 'public';
}

export interface TargetPolicy {
  /** Allow loopback, link-local, unspecified and private targets (never metadata). */
  allowPrivate: boolean;
}

const WHY: Record<Exclude<TargetClass, 'public'>, string> = {
  metadata: 'a cloud metadata endpoint',
  loopback: 'a loopback address',
  'link-local': 'a link-local address',
  unspecified: 'the unspecified address',
  private: 'a private network address',
};

/**
 * Why `url` (named `what` in the message) may not be used as a target under `policy`, or undefined
 * when it may. Unparseable URLs pass: their shape is the schema's and the caller's concern.
 */
export function forbiddenTargetProblem(url: string, what: string, policy: TargetPolicy): string | undefined {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return undefined;
  }
  const kind = classifyHost(hostname);
  if (kind === 'public' || (policy.allowPrivate && kind !== 'metadata')) return undefined;
  const hint = kind === 'metadata' ? '' : ' (operators can allow it with VENTUS_ALLOW_PRIVATE_TARGETS=true)';
  return `${what} points at ${WHY[kind]}, which sessions may not reach${hint}`;
}

interface StorageStateTargets {
  cookies?: readonly { url?: string }[];
  origins?: readonly { origin: string }[];
}

/** The first forbidden origin or cookie URL of a storage_state, as a problem detail. */
export function storageStateTargetProblem(
  state: StorageStateTargets,
  policy: TargetPolicy,
): string | undefined {
  for (const [i, o] of (state.origins ?? []).entries()) {
    const problem = forbiddenTargetProblem(o.origin, `storage_state.origins[${i}].origin`, policy);
    if (problem) return problem;
  }
  for (const [i, c] of (state.cookies ?? []).entries()) {
    const problem =
      c.url === undefined
        ? undefined
        : forbiddenTargetProblem(c.url, `storage_state.cookies[${i}].url`, policy);
    if (problem) return problem;
  }
  return undefined;
}
