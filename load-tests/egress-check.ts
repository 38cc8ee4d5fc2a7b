/**
 * What the egress check itself costs a page request (issue 15: "the check must not slow pages down").
 * Times `checkEgress` (runtime-image/agent/egress.check.ts, the function the pod's forwarding proxy
 * awaits before each request and tunnel) for an allow-listed loopback page, a public address and a
 * refused metadata address, against an empty awaited call as the baseline, in the same run. DNS is
 * not timed (a name resolves once per connection in the system resolver, as without the check).
 *
 *   node --import tsx load-tests/egress-check.ts [--calls 200000]
 */
import { parseArgs } from 'node:util';
import { checkEgress } from '../runtime-image/agent/egress.check.ts';
import type { EgressPolicy } from '../core/security/egress-policy.ts';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '200000' } } });
const CALLS = Number(values.calls);
const policy: EgressPolicy = { allow: ['127.0.0.1:41000', '127.0.0.1:41001'], allowPrivate: false };

async function timePerCall(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 10_000; i++) await fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) await fn();
  return ((performance.now() - t0) * 1000) / CALLS;
}

const rows: [string, number][] = [
  ['baseline: an empty awaited call', await timePerCall(async () => undefined)],
  [
    'allow-listed loopback page 127.0.0.1:41000',
    await timePerCall(() => checkEgress(policy, 'page', '127.0.0.1', 41000)),
  ],
  [
    'public address 93.184.215.14:443',
    await timePerCall(() => checkEgress(policy, 'page', '93.184.215.14', 443)),
  ],
  [
    'metadata 169.254.169.254:80 (refused)',
    await timePerCall(() => checkEgress(policy, 'page', '169.254.169.254', 80)),
  ],
];
console.log(`egress check, ${CALLS} calls each, ${new Date().toISOString()}\n`);
console.log('| target | µs per call |\n| --- | --- |');
for (const [name, us] of rows) console.log(`| ${name} | ${us.toFixed(2)} |`);
