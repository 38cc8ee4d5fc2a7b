/**
 * Attacks 4 and 5 of issue 15: read host files, and download outside the pod's directory.
 *
 * Reads, of /etc/shadow, the Postgres data directory (listing, pg_control, the heap page holding the
 * CDP signing secret), the service's data directory (listing, pods, the victim pod's profile and
 * cookie database) and the Redis dump if any:
 * - tenant A's CDP: a tab on file:// (text and listings) and DOM.setFileInputFiles + FileReader in
 *   A's page (every file);
 * - B's visited hostile page: fetch('file://…') itself, and through every DevTools socket it manages
 *   to open (the chain of attack 1), a file:// tab read over that socket.
 * Downloads: A's CDP sets Browser.setDownloadBehavior to a fresh /tmp path, an existing directory (as
 * /etc/cron.d would be) and the service's data directory, then downloads an intercepted attachment.
 *
 * Safe outcome: no attempt returns any marker of the real content, and no file appears at any of
 * those host paths.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.ts';
import { AttackTable, excerpt } from './attack-table.ts';
import { pageVector } from './attack-vectors.ts';
import { ATTACKER_A_ORIGIN, BoundaryStack, type AttackerPages } from './boundary-stack.ts';
import { hostileSite } from './hostile-page.ts';
import { entriesOf, holdsMarker, hostFiles, type HostFile } from './host-files.ts';

const READ = '4 read a host file';
const DOWNLOAD = '5 download outside the pod directory';

describe('pod boundary: host files and downloads', () => {
  const table = new AttackTable('host-files');
  let s: BoundaryStack;
  let pagesOfA: AttackerPages;
  let targets: HostFile[] = [];
  const scratch: string[] = [];

  beforeAll(async () => {
    // Full Chromium (headless): Debian's headless shell renders no file:// directory listings.
    s = await BoundaryStack.start({ minReady: 1, maxTotal: 5, chromiumPath: '/usr/bin/chromium' });
    const [a, b, victim] = await Promise.all([s.session('A'), s.session('B'), s.session('C')]);
    await s.victimPage(victim);
    const hostile = await s.hostilePage(b);
    pagesOfA = await s.attackerPages(await s.attackerCdp(a));
    const cookies = path.join(s.ctx.dataDir, 'pods', victim.podId, 'user-data', 'Default', 'Cookies');
    await eventually('the victim profile’s cookie database', async () => existsSync(cookies), {
      timeoutMs: 30_000,
    }).catch(() => undefined);
    targets = await hostFiles(s.ctx.db, s.ctx.dataDir, victim.podId);

    const fileUrl = (t: HostFile) => `file://${t.path}`;
    const readable = targets.filter((t) => t.kind !== 'binary');
    // A's CDP: file:// in a tab.
    const tabs = await pagesOfA.cdp.readInTabs(readable.map(fileUrl));
    readable.forEach((t, i) => {
      const r = tabs[i]!;
      const got = holdsMarker(t, r.text);
      table.add({
        attack: READ,
        vector: "A's CDP: file:// tab",
        target: t.label,
        outcome: got ? `READ: ${excerpt(r.text, 80)}` : `nothing (${r.error ?? excerpt(r.text, 60)})`,
        safe: !got,
      });
    });
    // A's CDP: DOM.setFileInputFiles, then FileReader in A's page.
    for (const t of targets.filter((x) => x.kind !== 'dir')) {
      const r = await pagesOfA.proxied.pickFile(t.path);
      const bytes = r.base64 ? Buffer.from(r.base64, 'base64') : undefined;
      const got = holdsMarker(t, bytes);
      table.add({
        attack: READ,
        vector: "A's CDP: DOM.setFileInputFiles + FileReader",
        target: t.label,
        outcome: got
          ? `READ ${r.size} bytes`
          : `nothing (${r.error ?? `${r.size ?? 0} bytes without the content`})`,
        safe: !got,
      });
    }
    // B's hostile page: its own file:// fetch, and file:// tabs over any DevTools socket it opens.
    const { ports, describePort } = s.scan();
    const report = await pageVector(hostile).run({
      ports,
      phases: ['devtools'],
      lootFiles: readable.map(fileUrl),
    });
    for (const f of report.fileFetches) {
      const t = readable.find((x) => fileUrl(x) === f.url)!;
      const got = holdsMarker(t, f.read);
      table.add({
        attack: READ,
        vector: "B's page: fetch('file://…')",
        target: t.label,
        outcome: got ? `READ: ${excerpt(f.read, 80)}` : `nothing (${f.error ?? 'empty'})`,
        safe: !got,
      });
    }
    for (const r of report.ports.filter((p) => p.opened)) {
      const loot = JSON.parse(r.read ?? '{}') as { files?: Record<string, string> };
      for (const t of readable) {
        const text = loot.files?.[fileUrl(t)];
        const got = holdsMarker(t, text);
        table.add({
          attack: READ,
          vector: `B's page: file:// tab over the DevTools socket it opened on ${describePort(r.port)}`,
          target: t.label,
          outcome: got ? `READ: ${excerpt(text, 80)}` : `nothing (${excerpt(text, 60)})`,
          safe: !got,
        });
      }
    }
  }, 600_000);

  afterAll(async () => {
    table.print();
    await s?.close();
    for (const dir of scratch) await rm(dir, { recursive: true, force: true });
  });

  it('every host file target was tried', () => {
    expect(targets.map((t) => t.label)).toEqual(
      expect.arrayContaining([
        '/etc/shadow',
        'host /etc beyond the entries a pod gets',
        'Postgres global/pg_control',
        'service pods directory',
      ]),
    );
    // Each readable target: A's file:// tab and B's file:// fetch; each file (not a directory): A's file input.
    const readable = targets.filter((t) => t.kind !== 'binary').length;
    const files = targets.filter((t) => t.kind !== 'dir').length;
    expect(table.count(READ)).toBeGreaterThanOrEqual(readable * 2 + files);
  });

  it('no attempt read any host file, listing or database', () => {
    expect(table.unsafe(READ)).toEqual([]);
  });

  it('Browser.setDownloadBehavior writes nothing outside the pod directory', async () => {
    const fresh = path.join(os.tmpdir(), `ventus-escape-${randomBytes(6).toString('hex')}`);
    const existing = await mkdtemp(path.join(os.tmpdir(), 'ventus-escape-cron.d-'));
    scratch.push(fresh, existing);
    const places: [string, string][] = [
      ['a fresh /tmp path', fresh],
      ['an existing root-owned directory (as /etc/cron.d)', existing],
      ["the service's data directory", s.ctx.dataDir],
    ];
    const { cdp } = pagesOfA;
    for (const [label, downloadPath] of places) {
      const name = `escape-${randomBytes(4).toString('hex')}.txt`;
      const page = await cdp.openPage();
      await page.serve(ATTACKER_A_ORIGIN, hostileSite({ name, body: `* * * * * root touch /tmp/${name}\n` }));
      await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath, eventsEnabled: true });
      const done = cdp.waitFor(
        'Browser.downloadProgress',
        (p) => p.state === 'completed' || p.state === 'canceled',
        15_000,
      );
      await page.navigate(`${ATTACKER_A_ORIGIN}/download`, 5_000).catch(() => undefined);
      const progress = await done;
      await page.close();
      const written = existsSync(path.join(downloadPath, name));
      table.add({
        attack: DOWNLOAD,
        vector: "A's CDP: Browser.setDownloadBehavior + download",
        target: `${label} (${downloadPath})`,
        outcome: `${typeof progress?.state === 'string' ? progress.state : 'no download event'}; ${
          written ? `FILE WRITTEN at ${path.join(downloadPath, name)}` : 'no file at that host path'
        }`,
        safe: !written,
      });
    }
    expect(table.unsafe(DOWNLOAD), entriesOf(fresh).join(', ')).toEqual([]);
  }, 120_000);
});
