/**
 * The egress check at the moment of connecting: resolves a page's target, judges EVERY address it
 * resolves to (core/security/egress-policy.ts), and hands back the address to connect to, so the
 * connection goes where the check looked (no second lookup a DNS rebinding could answer differently).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { egressRefusal, type EgressPolicy, type EgressUse } from '../../core/security/egress-policy.ts';

export type EgressVerdict = { address: string } | { refused: string };

/** How names are resolved; tests substitute one that answers without DNS. */
export type Resolve = (host: string) => Promise<string[]>;

const systemResolve: Resolve = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

export async function checkEgress(
  policy: EgressPolicy,
  use: EgressUse,
  host: string,
  port: number,
  resolve: Resolve = systemResolve,
): Promise<EgressVerdict> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  try {
    addresses = isIP(bare) ? [bare] : await resolve(bare);
  } catch {
    return { refused: 'a name that does not resolve' };
  }
  if (addresses.length === 0) return { refused: 'a name that does not resolve' };
  for (const address of addresses) {
    const why = egressRefusal(policy, use, bare, port, address);
    if (why) return { refused: why };
  }
  return { address: addresses[0]! };
}
