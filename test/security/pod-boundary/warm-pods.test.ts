/**
 * Attack 2 of issue 15: attach to warm pods before they are claimed. Pages (B's visited hostile page,
 * and A's own pages through the forwarding proxy and in a `direct://` context) open a DevTools
 * WebSocket on every listening port and keep what opens, with target discovery on. Then tenant C's
 * session claims one of the warm pods, and its automation opens a page whose URL and cookie hold a
 * secret.
 *
 * Safe outcome: after the claim no attacker socket is open on any port, and none ever saw C's page
 * or cookie.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttackTable } from './attack-table.ts';
import { leakedSecrets, recordPortReports, standardVectors } from './attack-vectors.ts';
import { BoundaryStack, type BoundarySession } from './boundary-stack.ts';

const ATTACK = '2 DevTools socket held across a warm pod’s claim';

describe('pod boundary: warm pods before their claim', () => {
  const table = new AttackTable('warm-pods');
  let s: BoundaryStack;
  let victim: BoundarySession;
  let warmBefore: string[] = [];

  beforeAll(async () => {
    s = await BoundaryStack.start({ minReady: 2, maxTotal: 6 });
    const [a, b] = await Promise.all([s.session('A'), s.session('B')]);
    const hostile = await s.hostilePage(b);
    const pagesOfA = await s.attackerPages(await s.attackerCdp(a));
    warmBefore = await s.waitForWarm(2);

    const { ports, describePort } = s.scan();
    const vectors = standardVectors(hostile, pagesOfA);
    for (const v of vectors) {
      const report = await v.run({ ports, phases: ['devtools'], hold: true });
      recordPortReports(table, `${v.name} (before the claim)`, report.ports, describePort, s.sessions);
    }
    // Opening them is judged after the claim (a socket the agent closes at claim is no leak).
    for (const row of table.rows) row.safe = undefined;

    victim = await s.session('C');
    await s.victimPage(victim);
    // Target discovery events arrive as the victim's page opens; give them a moment to come in.
    await sleep(2_000);
    for (const v of vectors) {
      for (const h of await v.held()) {
        const seen = [...h.urls, ...h.cookies].join(' ');
        const leaks = leakedSecrets(seen, [victim]);
        table.add({
          attack: ATTACK,
          vector: v.name,
          target: describePort(h.port),
          outcome: `${h.openNow ? 'STILL OPEN after the claim' : 'closed by the claim'}; ${
            leaks.length > 0 ? `SAW ${leaks.join(', ')} and its page` : 'saw nothing of C'
          } (${h.urls.length} target URLs seen)`,
          safe: !h.openNow && leaks.length === 0 && !seen.includes(victim.domain),
        });
      }
    }
  }, 600_000);

  afterAll(async () => {
    table.print();
    await s?.close();
  });

  it('the victim session was served from a warm pod', () => {
    expect(warmBefore).toContain(victim.podId);
  });

  it('no attacker socket outlives the claim, and none saw the victim', () => {
    expect(table.unsafe(ATTACK)).toEqual([]);
  });
});
