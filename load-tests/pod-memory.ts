/**
 * What a warm pod costs in memory against bare Chromium (the target: at most bare Chromium's PSS +
 * 10 MB): the PSS of a warm local pod's whole process tree (bubblewrap, the agent, its bridges,
 * Chromium), against as many headless shells started here at once with the same flags on
 * about:blank (shared pages split alike), both after settling. The agent's Node shares its binary's
 * pages with the service's own process, which lowers its share. PSS per pod falls as n grows (more
 * processes share the same Chromium and Node pages); USS beside it (pages only that tree maps) is
 * what one more pod adds to a host already running some. Run as root (memory of the pods' users).
 *
 *   node --import tsx load-tests/pod-memory.ts [--pods 3]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { poolName } from '../core/db/pools.repository.ts';
import { podDirOf, readPodRecord } from '../core/runtime/pod.store.ts';
import { startHeadlessShell } from './harness/bare-chromium.ts';
import { waitForWarm } from './harness/scratch-sessions.ts';
import { treeMemory, type Memory } from './harness/process-memory.ts';

type Tree = ReturnType<typeof treeMemory>;
import { startScratchStack } from './scratch-stack.ts';

const { values } = parseArgs({ options: { pods: { type: 'string', default: '3' } } });
const PODS = Number(values.pods);
const SETTLE_MS = 3_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (v: number) => `${v.toFixed(1)} MiB`;

/** `count` headless shells at once (as many as the pods, so shared pages split alike), each's PSS. */
async function barePss(count: number): Promise<Tree[]> {
  const shells = await Promise.all(Array.from({ length: count }, () => startHeadlessShell()));
  try {
    await sleep(SETTLE_MS);
    return shells.map((shell) => treeMemory(shell.pid));
  } finally {
    for (const shell of shells) await shell.stop();
  }
}

const bare = await barePss(PODS);
const scratch = await startScratchStack({
  VENTUS_HEADLESS: 'true',
  VENTUS_POOL_MIN_READY: String(PODS),
  VENTUS_POOL_MAX_TOTAL: String(PODS),
});
try {
  const { services } = scratch.stack;
  const pool = poolName(services.config.pool.region, 'chromium');
  await waitForWarm(scratch, PODS);
  await sleep(SETTLE_MS);
  const pods: Tree[] = [];
  for (const id of await services.warmPods.ids(pool)) {
    const record = await readPodRecord(podDirOf(path.resolve(services.config.dataDir, 'pods'), id));
    if (record) pods.push(treeMemory(record.pid));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const bareMean = { pss: mean(bare.map((b) => b.pss)), uss: mean(bare.map((b) => b.uss)) };
  const podMean = { pss: mean(pods.map((p) => p.pss)), uss: mean(pods.map((p) => p.uss)) };
  const names = [...new Set(pods.flatMap((p) => Object.keys(p.byName)))].sort();
  process.stdout.write(
    [
      `warm pod memory (PSS of the process tree, after ${SETTLE_MS / 1000} s settled), ${new Date().toISOString()}`,
      '',
      '| what | n | PSS mean | USS mean |',
      '| --- | --- | --- | --- |',
      `| headless shell on about:blank, started here (all at once) | ${bare.length} | ${mib(bareMean.pss)} | ${mib(bareMean.uss)} |`,
      `| warm local pod (headless) | ${pods.length} | ${mib(podMean.pss)} | ${mib(podMean.uss)} |`,
      ...names.map((n) => {
        const part = (key: keyof Memory) => mib(mean(pods.map((p) => p.byName[n]?.[key] ?? 0)));
        return `| … of which \`${n}\` | ${pods.length} | ${part('pss')} | ${part('uss')} |`;
      }),
      '',
      `pod − bare, PSS (its share, falls with n): ${mib(podMean.pss - bareMean.pss)} (target ≤ 10 MB = 9.5 MiB)`,
      `pod − bare, USS (what one more adds): ${mib(podMean.uss - bareMean.uss)}`,
      '',
    ].join('\n'),
  );
} finally {
  await scratch.close();
}
process.exit(0);
