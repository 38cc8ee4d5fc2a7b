/**
 * Attack 8: a descriptor the service inherited, reached from inside a session's browser.
 *
 * The service that drives pods runs with a socket on fd 900 left open without close-on-exec (as a
 * shell or a supervisor may leave one; the shell harness here left a pipe on fd 251, which every
 * pod's agent and Chromium held until the pod launcher closed such descriptors). From the pod's
 * browser the tenant's CDP lists /proc/self/fd in a file:// tab (the browser process's own
 * descriptors), and that file:// page's JavaScript fetches the same listing.
 * (inherited-descriptors.script.ts does the driving, in a process of its own that holds the socket.)
 *
 * Safe outcome: fd 900 is in no listing; the tab's listing must show the browser's own descriptors,
 * so the attack could have seen it. Mutation: the launcher not closing inherited descriptors; the
 * browser then holds fd 900 (and the harness's 251) and the test fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttackTable, excerpt } from './attack-table.ts';
import { runWithPlantedSocket } from '../../support/planted-descriptor.ts';

const ATTACK = '8 reach a descriptor the service inherited';
const PLANTED_FD = 900;

interface Read {
  text?: string;
  error?: string;
}
interface Report {
  /** What the script's own fd 900 is (`socket:[inode]`). */
  planted: string;
  listing: Read;
  fetched: string;
}

/** The descriptor numbers of a file:// directory listing of /proc/self/fd. */
const listedFds = (text: string | undefined): number[] =>
  (text ?? '')
    .split('\n')
    .map((line) => /^(\d+)\t/.exec(line)?.[1])
    .filter((fd): fd is string => fd !== undefined)
    .map(Number);

describe('pod boundary: descriptors the service inherited', { timeout: 120_000 }, () => {
  const table = new AttackTable('inherited-descriptors');
  let report: Report;

  beforeAll(async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'ventus-descriptors-'));
    try {
      const { code, out, err } = await runWithPlantedSocket(
        new URL('./inherited-descriptors.script.ts', import.meta.url),
        [stateDir],
        PLANTED_FD,
      );
      if (code !== 0) throw new Error(`the attack script exited ${code}: ${err.slice(-2_000)}`);
      report = JSON.parse(out) as Report;
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
    const listed = listedFds(report.listing.text);
    table.add({
      attack: ATTACK,
      vector: "the tenant's CDP: file:// tab",
      target: `/proc/self/fd/ of the browser process (${listed.length} descriptors listed)`,
      outcome: listed.includes(PLANTED_FD) ? `HELD: fd ${PLANTED_FD}` : `fd ${PLANTED_FD} not held`,
      safe: !listed.includes(PLANTED_FD),
    });
    const fetched = listedFds(report.fetched);
    table.add({
      attack: ATTACK,
      vector: "the file:// page's JavaScript: fetch",
      target: '/proc/self/fd/',
      outcome: fetched.includes(PLANTED_FD) ? `HELD: fd ${PLANTED_FD}` : excerpt(report.fetched, 80),
      safe: !fetched.includes(PLANTED_FD),
    });
  }, 120_000);

  afterAll(() => table.print());

  it('could see: the script held the socket, and the tab listed the browser’s own descriptors', () => {
    expect(report.planted).toMatch(/^socket:\[\d+\]$/);
    const listed = listedFds(report.listing.text);
    expect(listed).toEqual(expect.arrayContaining([0, 1, 2]));
    expect(listed.length).toBeGreaterThan(10);
  });

  it('no vector finds the planted socket in the browser', () => {
    expect(table.count(ATTACK)).toBe(2);
    expect(table.unsafe(ATTACK)).toEqual([]);
  });
});
