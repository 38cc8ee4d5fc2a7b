/**
 * The benchmark's CPU split (load-tests/harness/cpu-by-process.ts): a child that came and went
 * within the window still counts, under this process's children (the pods, in a benchmark).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { cpuBetween, cpuSnapshot } from '../../load-tests/harness/cpu-by-process.ts';

/** A child that burns about `seconds` of CPU, then its own child that does the same, then exits. */
async function burnInChildren(seconds: number): Promise<void> {
  const burn = `const end = process.cpuUsage().user + ${seconds * 1e6}; while (process.cpuUsage().user < end);`;
  const script = `${burn} require('node:child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(burn)}]);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  await once(child, 'exit');
}

describe('CPU by process', () => {
  it("counts children that exited within the window, grandchildren included, and the rest of the machine's", async () => {
    const before = cpuSnapshot();
    await burnInChildren(0.3);
    const used = cpuBetween(before, cpuSnapshot(), 0);
    // Two burns of 0.3 s plus two Node starts; ticks are 10 ms.
    expect(used.pods).toBeGreaterThanOrEqual(0.55);
    expect(used.pods).toBeLessThan(used.machine + 0.05);
    expect(used.postgres).toBeGreaterThanOrEqual(0);
    expect(used.redis).toBeGreaterThanOrEqual(0);
  });

  it("takes the load generator's own report out of the children's share", async () => {
    const before = cpuSnapshot();
    await burnInChildren(0.2);
    const after = cpuSnapshot();
    const all = cpuBetween(before, after, 0);
    const split = cpuBetween(before, after, 0.4);
    expect(split.loadGenerator).toBe(0.4);
    expect(split.pods).toBeCloseTo(all.pods - 0.4, 6);
    expect(split.other).toBeCloseTo(all.other, 6);
  });
});
