/**
 * The attack vectors, and how a report of the hostile script becomes rows of the results table.
 * A vector runs the same script: in B's visited page (https://attacker.test), or in pages tenant A
 * opened over its own CDP, through the pod's forwarding proxy or in a `direct://` context.
 */
import type { Page } from 'playwright-core';
import type { AttackerPage } from './attacker-cdp.client.ts';
import type { AttackPlan, AttackReport, HeldReport, PortReport } from './hostile-page.ts';
import { excerpt, type AttackTable } from './attack-table.ts';
import type { AttackerPages, BoundarySession } from './boundary-stack.ts';

export interface Vector {
  name: string;
  run(plan: AttackPlan): Promise<AttackReport>;
  /** What the sockets kept open by a `hold` plan saw since (window.reportHeld()). */
  held(): Promise<HeldReport[]>;
}

export const ATTACKS = {
  devtools: '1 WebSocket /devtools/browser',
  vnc: '1 WebSocket /vnc',
  storage: '1 read /storage-state',
  session: '1 no-cors POST /session (proxy hijack)',
  recordingStop: '3 no-cors POST /recording/stop',
} as const;

/** B's automation visits the hostile page: its own JavaScript attacks. */
export function pageVector(page: Page, name = 'B: hostile page https://attacker.test'): Vector {
  return {
    name,
    run: (plan) =>
      page.evaluate(
        (p) => (window as unknown as { runAttack(p: AttackPlan): Promise<AttackReport> }).runAttack(p),
        plan,
      ),
    held: () =>
      page.evaluate(() => (window as unknown as { reportHeld(): Promise<HeldReport[]> }).reportHeld()),
  };
}

/** The same script in a page tenant A drives over its CDP (Runtime.evaluate). */
export function attackerPageVector(page: AttackerPage, name: string): Vector {
  return {
    name,
    run: (plan) => page.evaluate<AttackReport>(`window.runAttack(${JSON.stringify(plan)})`, 240_000),
    held: () => page.evaluate<HeldReport[]>('window.reportHeld()', 60_000),
  };
}

/** The three vectors of the pod-boundary stack: B's visited page, A's proxied and direct:// pages. */
export function standardVectors(hostile: Page, pagesOfA: AttackerPages): Vector[] {
  return [
    pageVector(hostile),
    attackerPageVector(pagesOfA.proxied, "A: page over A's CDP"),
    attackerPageVector(pagesOfA.direct, "A: page in A's direct:// context"),
  ];
}

/** Names of the sessions whose secret shows in `text` (and so leaked). */
export function leakedSecrets(text: string | undefined, sessions: BoundarySession[]): string[] {
  if (!text) return [];
  return sessions.filter((s) => text.includes(s.secret)).map((s) => `${s.tenant}'s cookie`);
}

/** A storage-state document (or a CDP cookie dump) in what was read. */
const looksLikeStorageState = (text: string | undefined) => !!text && /"cookies"\s*:/.test(text);

/** One table row per port and phase of a report. */
export function recordPortReports(
  table: AttackTable,
  vector: string,
  rows: PortReport[],
  describePort: (port: number) => string,
  sessions: BoundarySession[],
): void {
  for (const r of rows) {
    const target = describePort(r.port);
    const leaks = leakedSecrets(r.read, sessions);
    const leakNote = leaks.length > 0 ? ` LEAKED ${leaks.join(', ')};` : '';
    switch (r.phase) {
      case 'devtools':
      case 'vnc':
        table.add({
          attack: ATTACKS[r.phase],
          vector,
          target,
          outcome: r.opened ? `OPENED;${leakNote} read ${excerpt(r.read)}` : `refused (${r.error ?? '?'})`,
          safe: !r.opened,
        });
        break;
      case 'storage':
        table.add({
          attack: ATTACKS.storage,
          vector,
          target,
          outcome: r.read ? `READ;${leakNote} ${excerpt(r.read)}` : `unreadable (${r.error ?? 'opaque'})`,
          safe: leaks.length === 0 && !looksLikeStorageState(r.read),
        });
        break;
      case 'session':
      case 'recordingStop':
        table.add({
          attack: ATTACKS[r.phase],
          vector,
          target,
          outcome: r.sent ? 'sent (the page cannot see the answer)' : `not sent (${r.error ?? '?'})`,
          safe: undefined,
        });
        break;
      default:
        table.add({ attack: r.phase, vector, target, outcome: excerpt(r), safe: undefined });
    }
  }
}

/** Rows for A's navigation reads of `/storage-state`. */
export function recordNavigationReads(
  table: AttackTable,
  vector: string,
  reads: { url: string; text?: string; error?: string }[],
  describePort: (port: number) => string,
  others: BoundarySession[],
): void {
  for (const r of reads) {
    const leaks = leakedSecrets(r.text, others);
    const state = looksLikeStorageState(r.text);
    table.add({
      attack: ATTACKS.storage,
      vector,
      target: describePort(Number(new URL(r.url).port)),
      outcome: state
        ? `READ a storage state;${leaks.length ? ` LEAKED ${leaks.join(', ')};` : ''} ${excerpt(r.text)}`
        : `no storage state (${r.error ?? excerpt(r.text, 60)})`,
      safe: !state && leaks.length === 0,
    });
  }
}
