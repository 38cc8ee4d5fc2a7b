/**
 * Attack 7 of issue 15: attacks 1, 4 (through a page) and 6 (loopback) against the pod agent as the
 * Kubernetes runtime image runs it (entrypoint.sh, headless, its secret in VENTUS_AGENT_SECRET). The
 * session's automation, connected with the secret as the control plane connects, holds an httpOnly
 * cookie, records, and visits a hostile page; the page sprays every listening port (its own agent's
 * included: in a cluster that is a fixed port on the pod IP, no scan needed). The tenant's own CDP
 * also opens a page in a `direct://` context and tries the same.
 *
 * Safe outcome: no socket opens, the cookie never shows up in what the pages read, /etc/shadow is not
 * read, the attacker's proxy sees nothing, the canary on loopback is not reached through the pod's
 * forwarding proxy, and the recording runs to the end (its last frame is the page's final green).
 * A `direct://` page reaching the canary is logged but not judged: outside a container the image has
 * no network namespace, so its loopback is the host's; in a cluster it is the pod's own.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttackTable, excerpt } from './attack-table.ts';
import { ATTACKS, attackerPageVector, recordPortReports, type Vector } from './attack-vectors.ts';
import type { AttackerCdp, AttackerPage } from './attacker-cdp.client.ts';
import {
  GREEN_PAGE,
  RED_PAGE,
  openAttackerPages,
  secretCookie,
  type BoundarySession,
} from './boundary-stack.ts';
import { hostileSite } from './hostile-page.ts';
import { startAttackerProxy, startCanary, type Instrument } from './instruments.ts';
import { scanListeningPorts } from './listening-ports.ts';
import { isGreen, lookAtRecording } from './recording-check.ts';
import { startImagePod, type ImagePod } from './runtime-image-pod.ts';

const SHADOW_FIRST_LINE = readFileSync('/etc/shadow', 'utf8').split('\n')[0] ?? '';
const LOOPBACK = '6 reach a loopback service';

describe('pod boundary: the runtime image’s agent', () => {
  const table = new AttackTable('runtime-image-agent');
  let pod: ImagePod;
  let owner: AttackerCdp;
  let victimPage: AttackerPage;
  let attackerProxy: Instrument;
  let canary: Instrument;
  const victim: BoundarySession = {
    id: 'image-pod',
    tenant: 'B',
    connectUrl: '',
    podId: 'image-pod',
    secret: `secret-B-${randomBytes(12).toString('hex')}`,
    domain: 'victim-image.test',
  };

  beforeAll(async () => {
    [attackerProxy, canary] = await Promise.all([startAttackerProxy(), startCanary()]);
    pod = await startImagePod();
    // The claim, as the control plane makes it: with the secret, recording on.
    const claim = await fetch(`${pod.url}/session`, {
      method: 'POST',
      headers: { ...pod.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ recording: { enabled: true } }),
    });
    if (!claim.ok) throw new Error(`POST /session: ${claim.status} ${await claim.text()}`);
    owner = await pod.cdp();
    await owner.send('Storage.setCookies', { cookies: [secretCookie(victim)] });
    victimPage = await owner.openPage();
    await victimPage.serve(`https://${victim.domain}`, (p) => ({
      body: p.startsWith('/green') ? GREEN_PAGE : RED_PAGE,
    }));
    await victimPage.navigate(`https://${victim.domain}/inbox`);
    // The automation visits the hostile page (same browser: the session's own tab).
    const hostile = await owner.openPage();
    await hostile.serve('https://attacker.test', hostileSite());
    await hostile.navigate('https://attacker.test/');
    const attackerPages = await openAttackerPages(owner);
    const { direct } = attackerPages;

    const { targets } = scanListeningPorts([attackerProxy.port, canary.port]);
    const agentPid = targets.find((t) => t.port === pod.port)?.pid;
    const describePort = (port: number) => {
      const t = targets.find((x) => x.port === port);
      if (port === pod.port) return `${port} the image's agent`;
      if (t?.pid === agentPid) return `${port} the agent's forwarding proxy`;
      if (/chrom/i.test(t?.command ?? '')) return `${port} Chromium DevTools`;
      return `${port} ${(t?.command ?? '?').split(' ')[0]}`;
    };
    const ports = targets.map((t) => t.port);
    const vectors: Vector[] = [
      attackerPageVector(hostile, 'hostile page https://attacker.test in the session'),
      attackerPageVector(direct, "tenant's CDP: page in a direct:// context"),
    ];
    for (const [i, v] of vectors.entries()) {
      const report = await v.run({
        ports,
        phases: ['devtools', 'vnc', 'storage', 'recordingStop'],
        lootFiles: ['file:///etc/shadow'],
        fetches: [{ label: 'canary', url: `${canary.url}/vector-${i}`, mode: 'cors' }],
      });
      recordPortReports(table, v.name, report.ports, describePort, [victim]);
      for (const r of report.ports.filter((p) => p.opened && p.phase === 'devtools')) {
        const read = r.read?.includes(SHADOW_FIRST_LINE) ?? false;
        table.add({
          attack: '4 read a host file',
          vector: `${v.name}, over the DevTools socket it opened`,
          target: '/etc/shadow',
          outcome: read ? 'READ' : 'nothing',
          safe: !read,
        });
      }
      const hit = canary.seen.filter((line) => line.includes(`/vector-${i} `));
      const judged = !v.name.includes('direct://');
      table.add({
        attack: LOOPBACK,
        vector: v.name,
        target: 'canary HTTP service on 127.0.0.1',
        outcome:
          (hit.length > 0 ? `REACHED: ${hit.join('; ')}` : 'never reached') +
          (judged ? '' : ' (not judged: no network namespace outside a container)'),
        safe: judged ? hit.length === 0 : undefined,
      });
    }
    for (const v of vectors) {
      const report = await v.run({ ports, phases: ['session'], proxyUrl: attackerProxy.url });
      recordPortReports(table, v.name, report.ports, describePort, [victim]);
    }
    // The recording follows the newest page: the attackers' pages go, the victim's page is shown again.
    for (const page of [attackerPages.direct, attackerPages.proxied, hostile]) await page.close();
    await victimPage.navigate(`${canary.url}/victim-after-attack`, 8_000).catch(() => undefined);
    await victimPage.navigate(`https://${victim.domain}/green`);
  }, 300_000);

  afterAll(async () => {
    table.print();
    owner?.close();
    await pod?.stop();
    await attackerProxy?.close();
    await canary?.close();
  });

  it.each([ATTACKS.devtools, ATTACKS.vnc, ATTACKS.storage, '4 read a host file', LOOPBACK])(
    '%s: never achieved',
    (attack) => {
      expect(table.unsafe(attack)).toEqual([]);
    },
  );

  it("POST /session moved no traffic onto the attacker's proxy", () => {
    const seen = [...attackerProxy.seen];
    table.add({
      attack: ATTACKS.session,
      vector: 'both pages',
      target: "the attacker's proxy",
      outcome:
        seen.length === 0 ? 'saw no connection' : `saw ${seen.length} events: ${excerpt(seen.join('; '))}`,
      safe: seen.length === 0,
    });
    expect(seen).toEqual([]);
  });

  it('the recording survived POST /recording/stop from the pages', async () => {
    await sleep(3_000);
    const stop = await fetch(`${pod.url}/recording/stop`, { method: 'POST', headers: pod.headers });
    expect(stop.status).toBe(200);
    const webm = await fetch(`${pod.url}/recording`, { headers: pod.headers });
    expect(webm.status).toBe(200);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ventus-attack-rec-'));
    try {
      const look = await lookAtRecording(Buffer.from(await webm.arrayBuffer()), path.join(dir, 'r.webm'));
      const survived = look.frames > 0 && isGreen(look.last);
      table.add({
        attack: ATTACKS.recordingStop,
        vector: 'both pages',
        target: 'the pod’s recording',
        outcome: survived
          ? `recorded to the end (${look.frames} frames, last one green)`
          : `STOPPED EARLY: ${look.frames} frames, last rgb(${look.last?.join(',') ?? '-'})`,
        safe: survived,
      });
      expect(isGreen(look.last), `last frame rgb(${look.last?.join(',')})`).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
