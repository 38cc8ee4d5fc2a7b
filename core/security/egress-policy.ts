/**
 * What a page may reach: the rule the pod agent's forwarding proxy applies to every request and
 * tunnel a browser opens, AFTER DNS resolution (so a public name that resolves to a private address
 * is judged by the address), and to the session's upstream proxy. Shared by the control plane (which
 * validates the operator's settings) and the agent (which enforces them). Pure: no I/O.
 *
 * - public addresses: allowed;
 * - loopback, link-local, unspecified and cloud metadata: refused, always;
 * - private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7): refused unless the operator
 *   allows them (VENTUS_ALLOW_PRIVATE_TARGETS=true);
 * - the operator's allow-list (VENTUS_EGRESS_ALLOW): exact `host:port` pairs that are allowed
 *   whatever they resolve to (development and tests serve pages on 127.0.0.1); metadata never.
 * An upstream proxy (a session's `proxy.url`) may also be loopback or private when private targets
 * are allowed: that is how a self-hosted install reaches its own proxy.
 */
import { isIP } from 'node:net';
import { classifyHost, type TargetClass } from './network-target.ts';

export interface EgressPolicy {
  /** Exact `host:port` pairs, lower case, IPv6 hosts in brackets. */
  allow: readonly string[];
  /** Private ranges allowed (never loopback, link-local or metadata for pages). */
  allowPrivate: boolean;
}

export type EgressUse = 'page' | 'upstream-proxy';

/** `host:port` as the allow-list spells it. */
export function egressPair(host: string, port: number): string {
  const bare = host
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '')
    .toLowerCase();
  return `${bare.includes(':') ? `[${bare}]` : bare}:${port}`;
}

/**
 * Why a connection to `address` (already resolved) for `host:port` is refused, or undefined when it
 * is allowed.
 */
export function egressRefusal(
  policy: EgressPolicy,
  use: EgressUse,
  host: string,
  port: number,
  address: string,
): string | undefined {
  const kind: TargetClass = classifyHost(address);
  if (kind === 'metadata' || classifyHost(host) === 'metadata') return 'a cloud metadata endpoint';
  if (policy.allow.includes(egressPair(host, port))) return undefined;
  if (kind === 'public') return undefined;
  if (kind === 'private' && policy.allowPrivate) return undefined;
  if (use === 'upstream-proxy' && policy.allowPrivate) return undefined;
  return kind === 'private' ? 'a private network address' : `a ${kind} address`;
}

/**
 * Parses VENTUS_EGRESS_ALLOW (`host:port,host:port`); pushes one problem per bad entry.
 * `forbidden` are the control plane's own endpoints (its port, Postgres, Redis, the agent's port),
 * which an entry may never name.
 */
export function parseEgressAllow(raw: string, forbidden: readonly string[], problems: string[]): string[] {
  const pairs: string[] = [];
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) {
      problems.push(`VENTUS_EGRESS_ALLOW: ${JSON.stringify(entry)} is not host:port`);
      continue;
    }
    const host = match[1]!.replace(/^\[|\]$/g, '');
    if (match[1]!.startsWith('[') && isIP(host) !== 6) {
      problems.push(`VENTUS_EGRESS_ALLOW: ${JSON.stringify(entry)} is not host:port`);
      continue;
    }
    const pair = egressPair(host, port);
    if (classifyHost(host) === 'metadata') {
      problems.push(`VENTUS_EGRESS_ALLOW: ${entry} is a cloud metadata endpoint`);
    } else if (forbidden.includes(pair) || (isLocal(host) && forbidden.includes(egressPair('*', port)))) {
      problems.push(
        `VENTUS_EGRESS_ALLOW: ${entry} is the control plane or a pod agent; pages may never reach it`,
      );
    } else pairs.push(pair);
  }
  return pairs;
}

function isLocal(host: string): boolean {
  const kind = classifyHost(host);
  return kind === 'loopback' || kind === 'unspecified';
}
