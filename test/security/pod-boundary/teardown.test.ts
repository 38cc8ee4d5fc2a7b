/**
 * Attack 5: processes that outlive their session. Tenant A fills its pod with processes from inside
 * the browser: pages on many sites and in several browser contexts (a renderer each, site isolation),
 * pages that print to PDF (a printing utility), page JavaScript that keeps its renderer busy and its
 * workers running, and, while the session is released, a CDP loop that keeps creating targets so
 * that Chromium forks renderers during the teardown. The next pod must not share the machine with
 * anything of it.
 *
 * The same pages spin the CPU: every process of the pod runs 10 steps nicer than the service, so a
 * tenant's pages cannot take the CPU from the control plane every tenant needs.
 *
 * Safe outcome: once the session has ended and its pod is deleted (unlisted, directory gone), no
 * process of the pod is alive: none of the tree seen under the pod's sandbox just before the release,
 * and (as root, where every pod runs as a uid of its own) no process of the pod's uid at all.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDeadState, listPids, readProcStat } from '../../../core/process/proc-stat.ts';
import { DEFAULT_POD_NICENESS, podUidOf } from '../../../core/runtime/local-sandbox.ts';
import { eventually } from '../../support/eventually.ts';
import { AttackTable } from './attack-table.ts';
import type { AttackerCdp } from './attacker-cdp.client.ts';
import { BoundaryStack, type BoundarySession } from './boundary-stack.ts';

const ATTACK = '5 processes that outlive their session';
const HOG = "5 a tenant's pages take the CPU from the service";
const SITES = 6;
const CONTEXTS = 2;

/** A page that keeps its renderer busy and its workers running until it is killed. */
const BUSY_PAGE = `<!doctype html><title>busy</title><body><script>
  for (let i = 0; i < 3; i++) {
    const src = URL.createObjectURL(new Blob(['setInterval(() => { const t = Date.now(); while (Date.now() - t < 5); }, 10)']));
    new Worker(src);
  }
  setInterval(() => { const t = Date.now(); while (Date.now() - t < 5); }, 20);
</script><h1>busy</h1></body>`;

interface Proc {
  pid: number;
  startTicks: number;
  comm: string;
  nice: number;
}

/** The process tree under `root` now (the pod's bubblewrap and everything it started). */
function treeUnder(root: number): Proc[] {
  const children = new Map<number, Proc[]>();
  let top: Proc | undefined;
  for (const pid of listPids()) {
    const stat = readProcStat(pid);
    if (!stat || isDeadState(stat)) continue;
    const proc = { pid, startTicks: stat.startTicks, comm: stat.comm, nice: stat.nice };
    if (pid === root) top = proc;
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), proc]);
  }
  const out: Proc[] = [];
  for (let next = top ? [top] : []; next.length > 0;) {
    out.push(...next);
    next = next.flatMap((p) => children.get(p.pid) ?? []);
  }
  return out;
}

const alive = (p: Proc): boolean => {
  const stat = readProcStat(p.pid);
  return stat !== undefined && !isDeadState(stat) && stat.startTicks === p.startTicks;
};

/** Live processes whose real uid is `uid`. */
function processesOfUid(uid: number): Proc[] {
  return listPids().flatMap((pid) => {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      return [];
    }
    const stat = readProcStat(pid);
    if (!stat || isDeadState(stat) || Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== uid) return [];
    return [{ pid, startTicks: stat.startTicks, comm: stat.comm, nice: stat.nice }];
  });
}

/** Fills the browser with processes over CDP: pages on many sites, in several contexts, printing. */
async function fillWithProcesses(cdp: AttackerCdp): Promise<number> {
  const contexts: (string | undefined)[] = [undefined];
  for (let i = 0; i < CONTEXTS; i++) {
    const { browserContextId } = await cdp.send<{ browserContextId: string }>('Target.createBrowserContext');
    contexts.push(browserContextId);
  }
  let pages = 0;
  for (const contextId of contexts) {
    for (let i = 0; i < SITES / contexts.length; i++) {
      const page = await cdp.openPage(contextId);
      const origin = `https://busy-${pages}.test`;
      await page.serve(origin, () => ({ body: BUSY_PAGE }));
      await page.navigate(`${origin}/`);
      if (pages % 2 === 0) await cdp.send('Page.printToPDF', {}, page.sessionId).catch(() => undefined);
      pages++;
    }
  }
  return pages;
}

describe('pod boundary: no process outlives its session', () => {
  const table = new AttackTable('teardown');
  let s: BoundaryStack;
  let attacker: BoundarySession;
  let before: Proc[] = [];
  let podPid = 0;
  let racedTargets = 0;
  let sentTargets = 0;
  let sentDuringRelease = 0;
  let survivors: Proc[] = [];
  let uidSurvivors: Proc[] | undefined;

  beforeAll(async () => {
    s = await BoundaryStack.start({ minReady: 1, maxTotal: 3 });
    attacker = await s.session('A');
    const podDir = path.join(s.ctx.dataDir, 'pods', attacker.podId);
    podPid = (JSON.parse(readFileSync(path.join(podDir, 'pod.json'), 'utf8')) as { pid: number }).pid;
    const cdp = await s.attackerCdp(attacker);
    const pages = await fillWithProcesses(cdp);

    // Chromium forks renderers while the pod is torn down: a new target every 20 ms, not awaited, until
    // the pod is gone.
    const race = setInterval(() => {
      sentTargets++;
      cdp
        .send('Target.createTarget', { url: `about:blank#${sentTargets}` }, undefined, 5_000)
        .then(() => racedTargets++)
        .catch(() => undefined);
    }, 20);
    await eventually('targets created while racing', async () => racedTargets >= 3, { timeoutMs: 30_000 });
    before = treeUnder(podPid);

    const sentAtRelease = sentTargets;
    const released = await s.tenants.A.release(attacker.id);
    if (released.status !== 200) throw new Error(`release: ${released.status}`);
    await s.tenants.A.waitFor(attacker.id, ['COMPLETED', 'EXPIRED', 'ERRORED'], 60_000);
    // The pod's record goes before its directory: deleted means both gone.
    await eventually(
      'the pod to be deleted',
      async () =>
        (await s.stack.driver.listPods()).every((p) => p.id !== attacker.podId) && !existsSync(podDir),
      { timeoutMs: 60_000, everyMs: 20 },
    );
    survivors = before.filter(alive);
    if (process.getuid?.() === 0) uidSurvivors = processesOfUid(podUidOf(attacker.podId));
    clearInterval(race);
    sentDuringRelease = sentTargets - sentAtRelease;

    const comms = [...new Set(before.map((p) => p.comm))].join(', ');
    const serviceNice = readProcStat(process.pid)!.nice;
    const podNice = [...new Set(before.map((p) => p.nice))];
    const expectedNice = Math.min(19, serviceNice + DEFAULT_POD_NICENESS);
    table.add({
      attack: HOG,
      vector: `${pages} busy pages, 3 spinning workers each, over A's CDP`,
      target: `the CPU priority of every process of A's pod (${before.length}) against the service's (niceness ${serviceNice})`,
      outcome: `niceness ${podNice.join(', ')}`,
      safe: podNice.length === 1 && podNice[0] === expectedNice,
    });
    table.add({
      attack: ATTACK,
      vector: `CDP: ${pages} pages on ${pages} sites in ${CONTEXTS + 1} contexts, busy renderers and workers, printToPDF; a new target every 20 ms until the pod is gone (${racedTargets} created, ${sentDuringRelease} sent during the release)`,
      target: `the pod's tree just before the release: ${before.length} processes (${comms})`,
      outcome:
        survivors.length === 0
          ? 'none alive once the pod is deleted'
          : `ALIVE after the delete: ${survivors.map((p) => `${p.pid} ${p.comm}`).join(', ')}`,
      safe: survivors.length === 0,
    });
    if (uidSurvivors)
      table.add({
        attack: ATTACK,
        vector: 'the same',
        target: `every process of the pod's uid (${podUidOf(attacker.podId)})`,
        outcome:
          uidSurvivors.length === 0
            ? 'none once the pod is deleted'
            : `ALIVE: ${uidSurvivors.map((p) => `${p.pid} ${p.comm}`).join(', ')}`,
        safe: uidSurvivors.length === 0,
      });
  }, 300_000);

  afterAll(async () => {
    table.print();
    await s?.close();
  });

  it('the attack filled the pod: many browser processes, targets created during the release', () => {
    // bubblewrap, the agent, its bridge, Chromium's browser, zygotes, GPU, network, one renderer a site.
    expect(before.length).toBeGreaterThanOrEqual(SITES + 6);
    expect(before.filter((p) => /chrom/i.test(p.comm)).length).toBeGreaterThanOrEqual(SITES);
    expect(racedTargets).toBeGreaterThanOrEqual(3);
    expect(sentDuringRelease).toBeGreaterThanOrEqual(2);
  });

  it("a tenant's busy pages run below the service's CPU priority: every process of its pod", () => {
    expect(table.count(HOG)).toBe(1);
    expect(table.unsafe(HOG)).toEqual([]);
  });

  it('no process of the pod is alive once its session ended and the pod is deleted', () => {
    expect(table.count(ATTACK)).toBeGreaterThan(0);
    expect(table.unsafe(ATTACK)).toEqual([]);
    expect(survivors).toEqual([]);
    if (uidSurvivors) expect(uidSurvivors).toEqual([]);
  });
});
