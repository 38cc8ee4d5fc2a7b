/**
 * Benchmark (issue 19): a headless local pod's start against a bare headless shell's, in the same run
 * on the same machine.
 *
 *   bare  the headless shell the agent would run, with the agent's flags (chromiumArgs: its sandbox on,
 *         a proxy, --remote-debugging-port=0) and environment, as a pod uid when root: spawn → the
 *         "DevTools listening on" line → GET /json/version answers = ready; then SIGKILL to its
 *         process group and wait until every process of it is gone.
 *   pod   LocalDriver.createPod (headless: bubblewrap, the agent, Chromium in its own network
 *         namespace with its bridges) until it resolves (the agent's ready line) = ready; then
 *         deletePod (resolves once every process of the pod is gone and its directories removed).
 *   baseline  (with `--baseline <checkout>`) the same with another checkout's driver and agent
 *         (e.g. `git archive <commit> | tar -x -C /tmp/before`, node_modules linked in): before and
 *         after in the same run, interleaved.
 *
 * `--parallel` starts at a time (default 2: the machine's cores), in blocks of `--block` starts that
 * alternate between the modes, so a busy machine slows both alike. starts/s = starts / wall time of
 * that mode's blocks (each start includes its teardown). One uncounted start of each mode first
 * (the agent bundle built, the page cache warm).
 *
 * CPU: every process a start makes, however it ends. The benchmark moves itself into a cgroup v2 of
 * its own (`/sys/fs/cgroup[/unified]/ventus-pod-start-<random>`); every process it starts is born
 * there and stays there when orphaned (bubblewrap's monitor dies on SIGTERM, leaving its sandbox to be
 * reaped by init, so rusage of reaped children, /proc/self/stat's cutime, misses whole pods), and
 * the cgroup's `cpu.stat` usage_usec counts them all, dead or alive. A block's CPU is the cgroup's
 * usage over the block minus this process's own (process.cpuUsage(), every thread), after waiting
 * until no process but this one is left in the cgroup. This process's own CPU is reported apart:
 * for `pod` it is the driver's work in the control plane (spawn, pod record, /proc scans of
 * deletePod). Needs root (or a delegated cgroup); without one, CPU columns are "-".
 *
 * With `--parallel 1`, "of which to ready" is the CPU from spawn to ready alone (starts overlapping
 * would count each other's).
 *
 * Event loop: the longest time this process's event loop was held up during each createPod and
 * each deletePod (a 1 ms timer's lateness, `LoopStalls`), which is what the control plane's requests
 * and CDP relays wait through while the driver starts and deletes pods beside them. With `--parallel`
 * above 1 a stall counts for every start in flight. A fork copies the forking process's page
 * tables, so it costs in proportion to that process's memory: `--ballast <MiB>` makes this process
 * as big as the service it stands in for (the scratch stack's process holds ~400 MiB after a few
 * sessions); its RSS is printed.
 *
 * `--settle <ms>` keeps each browser up that long after ready before stopping it: Chromium goes on
 * starting after its DevTools answer (its network service, GPU process, the first page: about as
 * much CPU again), work a warm pod does while it waits, which an immediate stop leaves out. With it,
 * starts/s are no longer a rate (the wall time holds the settling); the CPU per start is the figure.
 *
 *   node --import tsx load-tests/pod-start.ts [--runs 40] [--parallel 2] [--block 10] [--settle 0]
 *       [--baseline <checkout>] [--modes bare,pod,baseline] [--ballast 0]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { LocalDriver } from '../core/runtime/local.driver.ts';
import { podUidOf } from '../core/runtime/local-sandbox.ts';
import { browserEnv, chromiumArgs } from '../runtime-image/agent/chromium.launcher.ts';
import { resolveChromium } from '../runtime-image/agent/chromium.resolver.ts';
import { fetchChromiumVersion } from '../runtime-image/agent/devtools.address.ts';
import { percentiles } from './stats.ts';
import { CpuGroup } from './harness/cpu-group.ts';

const MODES = ['bare', 'pod', 'baseline'] as const;
type Mode = (typeof MODES)[number];

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '40' },
    parallel: { type: 'string', default: '2' },
    block: { type: 'string', default: '10' },
    modes: { type: 'string' },
    baseline: { type: 'string' },
    settle: { type: 'string', default: '0' },
    ballast: { type: 'string', default: '0' },
  },
});
const RUNS = Number(values.runs);
const PARALLEL = Number(values.parallel);
const BLOCK = Number(values.block);
/** How long each browser stays up after ready before it is stopped: Chromium keeps starting after. */
const SETTLE_MS = Number(values.settle);
const BASELINE = values.baseline && path.resolve(values.baseline);
const modes = (values.modes ?? (BASELINE ? 'bare,pod,baseline' : 'bare,pod')).split(',') as Mode[];
for (const m of modes) if (!MODES.includes(m)) throw new Error(`unknown mode ${m}`);
if (modes.includes('baseline') && !BASELINE) throw new Error('mode baseline needs --baseline <checkout>');
const BALLAST_MIB = Number(values.ballast);
if (!(RUNS > 0 && PARALLEL > 0 && BLOCK > 0 && SETTLE_MS >= 0 && BALLAST_MIB >= 0))
  throw new Error('--runs, --parallel, --block: positive; --settle, --ballast: 0 or more');
/** Memory held (and touched) so that this process is the size of the service it stands in for. */
const ballast = Array.from({ length: BALLAST_MIB }, () => Buffer.alloc(2 ** 20, 1));

const selfCpuUs = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

// ---- bare: the headless shell with the agent's flags -----------------------------------------

const executable = resolveChromium({ headless: true });
const isRoot = process.getuid?.() === 0;
/** As root, Chromium's sandbox cannot run: a pod uid (as the pods run), its sandbox on. */
const bareUid = isRoot ? podUidOf('pod-start-bare') : undefined;

interface StartResult {
  readyMs: number;
  deleteMs?: number;
  /** The longest event loop stall of this process during createPod and during deletePod. */
  createStallMs?: number;
  deleteStallMs?: number;
  /** The group's CPU (µs) from spawn to ready: only meaningful one start at a time. */
  startCpuUs: number;
}

/** The cgroup's CPU now minus this process's own (µs). */
const childrenCpuUs = (): number => group?.childrenUs() ?? NaN;

async function bareStart(): Promise<StartResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ventus-bare-'));
  if (bareUid !== undefined) chownSync(dir, bareUid, bareUid);
  const userDataDir = path.join(dir, 'user-data');
  const opts = {
    executable,
    headless: true,
    userDataDir,
    homeDir: path.join(dir, 'home'),
    tmpDir: dir,
    sandbox: true,
    // Nothing listens there: about:blank fetches nothing; the flag is the agent's.
    proxyPort: 9,
    timeoutMs: 15_000,
  };
  const cpu0 = childrenCpuUs();
  const t0 = performance.now();
  const child = spawn(executable, chromiumArgs(opts), {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: browserEnv(opts, {}),
    detached: true,
    ...(bareUid !== undefined && { uid: bareUid, gid: bareUid }),
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
        const m = /DevTools listening on ws:\/\/[^/]+:(\d+)\//.exec(err);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`headless shell exited ${code}: ${err}`)));
    });
    for (let i = 0; !(await fetchChromiumVersion({ port }, 1_000)); i++) {
      if (i > 100) throw new Error('DevTools never answered');
      await sleep(5);
    }
    const readyMs = performance.now() - t0;
    const startCpuUs = childrenCpuUs() - cpu0;
    await sleep(SETTLE_MS);
    return { readyMs, startCpuUs };
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- pod: the local driver ---------------------------------------------------------------------

/** How late a 1 ms timer fires: the longest stall of this process's event loop since `since()`. */
class LoopStalls {
  private timer: NodeJS.Timeout | undefined;
  private readonly windows = new Set<{ maxMs: number }>();

  start(): void {
    let due = performance.now() + 1;
    const tick = () => {
      const late = performance.now() - due;
      for (const w of this.windows) w.maxMs = Math.max(w.maxMs, late);
      due = performance.now() + 1;
      this.timer = setTimeout(tick, 1);
    };
    this.timer = setTimeout(tick, 1);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** The longest stall while `work` runs (including the one that ends it). */
  async during<T>(work: () => Promise<T>): Promise<[T, number]> {
    const window = { maxMs: 0 };
    this.windows.add(window);
    try {
      const result = await work();
      // The stall that ended the work is measured by the next tick.
      await new Promise((resolve) => setTimeout(resolve, 1));
      return [result, window.maxMs];
    } finally {
      this.windows.delete(window);
    }
  }
}
const stalls = new LoopStalls();

const base = await mkdtemp(path.join(os.tmpdir(), 'ventus-pod-start-'));
type DriverModule = typeof import('../core/runtime/local.driver.ts');
type AccessModule = typeof import('../core/runtime/agent.client.ts');

/** A local driver of this checkout, or (`--baseline`) of another one: its driver, agent and sandbox. */
async function localDriver(checkout: string | undefined, name: string): Promise<LocalDriver> {
  const from = (file: string): string =>
    checkout ? pathToFileURL(path.join(checkout, file)).href : new URL(`../${file}`, import.meta.url).href;
  const { LocalDriver: Driver } = (await import(from('core/runtime/local.driver.ts'))) as DriverModule;
  const { PodAgentAccess: Access } = (await import(from('core/runtime/agent.client.ts'))) as AccessModule;
  return new Driver({
    stateDir: path.join(base, name, 'pods'),
    agentAccess: new Access(randomBytes(32).toString('base64url')),
    egress: { allow: [], allowPrivate: false },
  });
}
const drivers = new Map<Mode, LocalDriver>();
if (modes.includes('pod')) drivers.set('pod', await localDriver(undefined, 'pod'));
if (modes.includes('baseline')) drivers.set('baseline', await localDriver(BASELINE, 'baseline'));
let podSeq = 0;

async function podStart(driver: LocalDriver): Promise<StartResult> {
  const id = `bench-${process.pid}-${podSeq++}`;
  const cpu0 = childrenCpuUs();
  const t0 = performance.now();
  const [, createStallMs] = await stalls.during(() =>
    driver.createPod({ id, pool: 'bench', headless: true }),
  );
  const t1 = performance.now();
  const startCpuUs = childrenCpuUs() - cpu0;
  await sleep(SETTLE_MS);
  const t2 = performance.now();
  const [, deleteStallMs] = await stalls.during(() => driver.deletePod(id));
  return { readyMs: t1 - t0, deleteMs: performance.now() - t2, startCpuUs, createStallMs, deleteStallMs };
}

// ---- the run -----------------------------------------------------------------------------------

interface Tally {
  ready: number[];
  startCpuUs: number;
  deleteMs: number[];
  wallMs: number;
  cpuUs: number;
  selfUs: number;
  createStallMs: number[];
  deleteStallMs: number[];
}
const tallies = new Map<Mode, Tally>(
  modes.map((m) => [
    m,
    {
      ready: [],
      startCpuUs: 0,
      deleteMs: [],
      wallMs: 0,
      cpuUs: 0,
      selfUs: 0,
      createStallMs: [],
      deleteStallMs: [],
    },
  ]),
);
const group = CpuGroup.open('ventus-pod-start');
group?.keep();
if (!group) process.stderr.write('no writable cgroup v2 (run as root): CPU is not measured\n');

async function block(mode: Mode, starts: number, counted: boolean): Promise<void> {
  const tally = tallies.get(mode)!;
  if (counted) await group?.drain();
  const cpu0 = childrenCpuUs();
  const self0 = selfCpuUs();
  const t0 = performance.now();
  let left = starts;
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, starts) }, async () => {
      while (left > 0) {
        left--;
        const r = mode === 'bare' ? await bareStart() : await podStart(drivers.get(mode)!);
        if (!counted) continue;
        tally.ready.push(r.readyMs);
        tally.startCpuUs += r.startCpuUs;
        if (r.deleteMs !== undefined) tally.deleteMs.push(r.deleteMs);
        if (r.createStallMs !== undefined) tally.createStallMs.push(r.createStallMs);
        if (r.deleteStallMs !== undefined) tally.deleteStallMs.push(r.deleteStallMs);
      }
    }),
  );
  const wall = performance.now() - t0;
  if (!counted) return;
  await group?.drain();
  tally.wallMs += wall;
  tally.selfUs += selfCpuUs() - self0;
  tally.cpuUs += childrenCpuUs() - cpu0;
}

const stallCell = (ms: number[]): string =>
  ms.length ? `${percentiles(ms).p50.toFixed(1)} / ${Math.max(...ms).toFixed(1)} ms` : '-';

stalls.start();
try {
  for (const mode of modes) await block(mode, PARALLEL, false);
  await sleep(500); // what the warm-up starts left exits; what lives on (esbuild's service) is kept
  group?.keep();
  for (let done = 0; done < RUNS; done += BLOCK) {
    const n = Math.min(BLOCK, RUNS - done);
    // Alternate which mode goes first.
    const order = (done / BLOCK) % 2 === 0 ? modes : [...modes].reverse();
    for (const mode of order) {
      await block(mode, n, true);
      process.stderr.write(`${mode}: ${tallies.get(mode)!.ready.length}/${RUNS}\n`);
    }
  }
} finally {
  stalls.stop();
  for (const driver of drivers.values()) {
    await driver.close();
    await driver.removeSandboxBase(); // as root: the pods' base directory and its copy of the bundle
  }
  try {
    await group?.close();
  } catch (err) {
    process.stderr.write(`cgroup: ${String(err)}\n`);
  }
  await rm(base, { recursive: true, force: true });
}

const rows = [
  [
    'start',
    'n',
    'parallel',
    'starts/s',
    'ready p50',
    'ready p99',
    'CPU-s/start (processes)',
    'of which to ready',
    'CPU-s/start (this process)',
    'delete p50',
    'longest stall in create p50 / max',
    'in delete p50 / max',
  ],
];
for (const mode of modes) {
  const t = tallies.get(mode)!;
  const n = t.ready.length;
  const ready = percentiles(t.ready);
  const cpu = (us: number) => (Number.isNaN(us) ? '-' : (us / 1e6 / n).toFixed(3));
  rows.push([
    { bare: 'bare headless shell', pod: 'local pod (headless)', baseline: `local pod, ${BASELINE}` }[mode],
    String(n),
    String(PARALLEL),
    (n / (t.wallMs / 1000)).toFixed(2),
    `${ready.p50.toFixed(1)} ms`,
    `${ready.p99.toFixed(1)} ms`,
    cpu(t.cpuUs),
    // Spawn to ready of one start alone: with starts overlapping, another's CPU would count too.
    PARALLEL === 1 ? cpu(t.startCpuUs) : '-',
    cpu(t.selfUs),
    t.deleteMs.length ? `${percentiles(t.deleteMs).p50.toFixed(1)} ms` : '-',
    stallCell(t.createStallMs),
    stallCell(t.deleteStallMs),
  ]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const [i, row] of rows.entries()) {
  process.stdout.write(`| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |\n`);
  if (i === 0) process.stdout.write(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n`);
}
process.stdout.write(
  `\n${executable}; ${os.cpus().length} CPUs, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, node ${process.version}, this process's RSS ${Math.round(
    process.memoryUsage().rss / 2 ** 20,
  )} MiB (ballast ${ballast.length} MiB), ${new Date().toISOString()}\n`,
);
