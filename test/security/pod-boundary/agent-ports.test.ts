/**
 * Attacks 1 and 3 of issue 15: every listening TCP port on the host, from a hostile page in tenant
 * B's session and from pages tenant A drives over its own CDP (through the pod's forwarding proxy,
 * and in a `direct://` context that bypasses it): a DevTools WebSocket, the live view's /vnc, reading
 * /storage-state (page fetch; A also navigates and reads), POST /recording/stop and, last, a no-cors
 * POST /session that would move a browser's traffic onto the attacker's proxy.
 *
 * Safe outcome: no socket opens, no session's cookie shows up anywhere, the attacker's proxy never
 * sees a connection (not even when the victim's page then loads something), and the victim's
 * recording (session C) keeps recording to the end: its last frame is the green the page turns after
 * the attack.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.ts';
import { AttackTable } from './attack-table.ts';
import { ATTACKS, standardVectors, recordNavigationReads, recordPortReports } from './attack-vectors.ts';
import { BoundaryStack, type BoundarySession } from './boundary-stack.ts';
import { scanListeningPorts, type ListeningPort } from './listening-ports.ts';
import { isGreen, lookAtRecording } from './recording-check.ts';

describe('pod boundary: every listening port, from pages and from a tenant CDP', () => {
  const table = new AttackTable('agent-ports');
  let s: BoundaryStack;
  let victim: BoundarySession;
  let victimPage: Page;
  let attackerA: BoundarySession;
  let targets: ListeningPort[] = [];

  beforeAll(async () => {
    s = await BoundaryStack.start({ minReady: 1, maxTotal: 6 });
    const [a, b, c] = await Promise.all([
      s.session('A'),
      s.session('B'),
      s.session('C', { recording: { enabled: true } }),
    ]);
    attackerA = a;
    victim = c;
    victimPage = await s.victimPage(victim);
    const hostile = await s.hostilePage(b);
    const cdp = await s.attackerCdp(a);
    const pagesOfA = await s.attackerPages(cdp);
    await s.waitForWarm(1);

    const scan = scanListeningPorts([s.attackerProxy.port, s.canary.port]);
    for (const skipped of scan.skipped)
      table.add({
        attack: 'port scan',
        vector: '-',
        target: String(skipped.port),
        outcome: `left alone: ${skipped.why}`,
        safe: undefined,
      });
    const { ports, describePort } = s.scan();
    targets = s.scan().targets;
    const vectors = standardVectors(hostile, pagesOfA);
    for (const v of vectors) {
      const report = await v.run({ ports, phases: ['devtools', 'vnc', 'storage', 'recordingStop'] });
      recordPortReports(table, v.name, report.ports, describePort, s.sessions);
    }
    const contexts: [string, string | undefined][] = [
      ["A's CDP: tab + read", undefined],
      ["A's CDP: tab + read in direct://", pagesOfA.directContextId],
    ];
    for (const [name, contextId] of contexts) {
      const urls = ports.map((p) => `http://127.0.0.1:${p}/storage-state`);
      const reads = await pagesOfA.cdp.readInTabs(urls, contextId);
      recordNavigationReads(table, name, reads, describePort, s.othersThan(attackerA));
    }
    // Last, because it may move each browser's traffic (the attackers' too) onto the attacker's proxy.
    for (const v of vectors) {
      const report = await v.run({ ports, phases: ['session'], proxyUrl: s.attackerProxy.url });
      recordPortReports(table, v.name, report.ports, describePort, s.sessions);
    }
    // The victim's page then loads something over the network, and turns green.
    await victimPage.goto(`${s.canary.url}/victim-after-attack`, { timeout: 10_000 }).catch(() => undefined);
    await victimPage.goto(`https://${victim.domain}/green`);
  }, 600_000);

  afterAll(async () => {
    table.print();
    await s?.close();
  });

  it('found ports to attack (the broker, Postgres and Redis at least)', () => {
    expect(targets.length).toBeGreaterThanOrEqual(3);
    expect(table.count(ATTACKS.devtools)).toBe(targets.length * 3);
  });

  it.each([ATTACKS.devtools, ATTACKS.vnc, ATTACKS.storage])('%s: never achieved', (attack) => {
    expect(table.count(attack)).toBeGreaterThan(0);
    expect(table.unsafe(attack)).toEqual([]);
  });

  it("no POST /session moved any browser's traffic onto the attacker's proxy", () => {
    const seen = [...s.attackerProxy.seen];
    table.add({
      attack: ATTACKS.session,
      vector: 'all of the above',
      target: "the attacker's proxy",
      outcome:
        seen.length === 0
          ? 'saw no connection'
          : `saw ${seen.length} events: ${[...new Set(seen)].slice(0, 6).join('; ')}`,
      safe: seen.length === 0,
    });
    expect(seen).toEqual([]);
  });

  it("the victim's recording survived POST /recording/stop on every port", async () => {
    // Time for the recording to catch the green page (the assertion is on what it shows, not on time).
    await sleep(3_000);
    const api = s.tenants.C;
    expect((await api.release(victim.id)).body.status).toBe('COMPLETED');
    const link = await eventually(
      'the recording',
      async () => {
        const res = await api.request<{ recording_url: string }>(
          'GET',
          `/v1/sessions/${victim.id}/recording`,
        );
        return res.status === 200 && res.body;
      },
      { timeoutMs: 90_000, everyMs: 500 },
    );
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ventus-attack-rec-'));
    try {
      const res = await fetch(link.recording_url);
      expect(res.headers.get('content-type')).toBe('video/webm');
      const look = await lookAtRecording(Buffer.from(await res.arrayBuffer()), path.join(dir, 'v.webm'));
      const survived = look.frames > 0 && isGreen(look.last);
      table.add({
        attack: '3 no-cors POST /recording/stop',
        vector: 'all of the above',
        target: "victim's recording (session C)",
        outcome: survived
          ? `recorded to the end (${look.frames} frames, last one green)`
          : `STOPPED EARLY: ${look.frames} frames, last frame rgb(${look.last?.join(',') ?? '-'}) is not the green after the attack`,
        safe: survived,
      });
      expect(look.frames).toBeGreaterThan(0);
      expect(isGreen(look.last), `last frame rgb(${look.last?.join(',')})`).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
