/**
 * The soak: mixed session traffic (creates, releases, keep-alives, expiries, CDP connects and
 * disconnects) on the sim driver against the four processes of the service, with periodic faults
 * (SIGKILL and restart of a random process, a Redis flush of the installation's keys, a held sim pod
 * killed or stalled), while RSS and open fds of every process are sampled. Ends by draining and
 * checking the fault suite's invariants; returns the report (see report.ts).
 */
import path from 'node:path';
import { Redis } from 'ioredis';
import { TestContext } from '../../test/support/test-context.ts';
import { ProcessStack, type ProcessName } from '../../test/support/process-stack.ts';
import { SimDriver } from '../../core/runtime/sim/sim.driver.ts';
import { readSimServerState } from '../../core/runtime/sim/sim-server.state.ts';
import { Traffic, type LifecycleKind } from './traffic.ts';
import { mulberry32 } from './random.ts';
import { Sampler, type Trend } from './sampler.ts';
import {
  capacityViolations,
  outcomeCounts,
  podViolations,
  sessionViolations,
  unsettled,
  type InvariantDeps,
} from './invariants.ts';

export interface SoakOptions {
  durationMs: number;
  /** Lifecycles started per second. */
  rate: number;
  /** A fault every this many ms (0: none). */
  faultEveryMs: number;
  seed: number;
  maxTotal: number;
  sampleEveryMs: number;
  adminUrl?: string;
  redisUrl?: string;
  log?: (line: string) => void;
}

export type FaultKind = ProcessName | 'redis-flush' | 'pod-kill' | 'pod-stall';
const FAULTS: FaultKind[] = [
  'broker',
  'proxy',
  'workers',
  'pool-controller',
  'redis-flush',
  'pod-kill',
  'pod-stall',
];
const POOL = 'us-east1-chromium';
/** Expiring sessions live 60 s (the minimum timeout): none start this close to the end. */
const EXPIRE_CUTOFF_MS = 65_000;

export interface SoakReport {
  startedAt: string;
  options: Omit<SoakOptions, 'log' | 'adminUrl' | 'redisUrl'>;
  durationMs: number;
  lifecycles: Record<string, number>;
  outcomes: Record<string, number>;
  client: Record<string, number>;
  http503: number;
  faults: { at: number; kind: FaultKind }[];
  trends: Trend[];
  violations: string[];
  unsettledAfterDrain: number;
  verdict: { flat: boolean; invariants: boolean };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function flushInstallation(redis: Redis, prefix: string): Promise<void> {
  // Only this installation's keys: the Redis may be shared with other installations (or tests).
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Two streams from one seed: the fault schedule replays exactly whatever the traffic draws.
  const rng = mulberry32(options.seed);
  const trafficRng = mulberry32(options.seed ^ 0x9e3779b9);
  const env = {
    VENTUS_DRIVER: 'sim',
    VENTUS_SIM_READY_MS: '50',
    VENTUS_ORPHAN_GRACE_MS: '5000',
    VENTUS_RATE_LIMIT_PER_MINUTE: '10000000',
    // One workspace drives the whole pool here: its share must not be the bottleneck being soaked.
    VENTUS_WORKSPACE_MAX_LIVE_SESSIONS: '100000',
    VENTUS_LOG_LEVEL: 'error',
  };
  const ctx = await TestContext.create({
    minReady: 5,
    maxTotal: options.maxTotal,
    env,
    ...(options.adminUrl && { adminUrl: options.adminUrl }),
    ...(options.redisUrl && { redisUrl: options.redisUrl }),
  });
  const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: null });
  const driver = new SimDriver({ stateDir: path.join(ctx.dataDir, 'sim') });
  let stack: ProcessStack | undefined;
  try {
    stack = await ProcessStack.start(ctx, env);
    const { apiKey, workspaceId } = await ctx.seedKey();
    const deps: InvariantDeps = {
      db: ctx.db,
      redis,
      prefix: ctx.name,
      pool: POOL,
      workspaceId,
      podIds: async () => (await driver.serverPods()).map((p) => p.id),
    };
    const names: ProcessName[] = ['broker', 'proxy', 'workers', 'pool-controller'];
    const sampler = new Sampler(async () => ({
      ...Object.fromEntries(names.map((n) => [n, stack!.pid(n)])),
      'sim-server': (await readSimServerState(path.join(ctx.dataDir, 'sim')))?.pid,
    }));
    sampler.start(options.sampleEveryMs);
    const traffic = new Traffic({
      brokerUrl: stack.brokerUrl,
      apiKey,
      patienceMs: 90_000,
    });
    const started = Date.now();
    const end = started + options.durationMs;
    const pick = (): LifecycleKind => {
      const r = trafficRng();
      if (r < 0.2 && end - Date.now() > EXPIRE_CUTOFF_MS) return 'expire';
      return r < 0.45 ? 'release' : r < 0.8 ? 'cdp' : 'keepalive';
    };
    const done = traffic.run({
      durationMs: options.durationMs,
      rate: options.rate,
      maxInFlight: options.maxTotal,
      pick,
    });

    const faults: SoakReport['faults'] = [];
    let lastProgress = Date.now();
    while (options.faultEveryMs > 0 && Date.now() + options.faultEveryMs < end) {
      await sleep(options.faultEveryMs * (0.5 + rng()));
      if (Date.now() >= end - 5_000) break;
      const kind = FAULTS[Math.floor(rng() * FAULTS.length)]!;
      faults.push({ at: Date.now() - started, kind });
      if (kind === 'redis-flush') await flushInstallation(redis, ctx.name);
      else if (kind === 'pod-kill' || kind === 'pod-stall') {
        const { rows } = await ctx.db.query<{ pod_id: string }>(
          `SELECT pod_id FROM sessions WHERE status = 'RUNNING' AND pod_id IS NOT NULL ORDER BY random() LIMIT 1`,
        );
        if (rows[0])
          await driver
            .injectFault(rows[0].pod_id, kind === 'pod-kill' ? 'kill' : 'stall')
            .catch(() => undefined);
      } else {
        await stack.kill(kind);
        await sleep(rng() * 1_000);
        stack.start(kind);
      }
      if (Date.now() - lastProgress > 60_000) {
        lastProgress = Date.now();
        log(
          `soak: ${Math.round((Date.now() - started) / 1000)} s, ${traffic.answered.size} sessions, ${faults.length} faults`,
        );
      }
    }
    await done;
    // Drain: what still runs is released (expiring ones started > 65 s before the end have expired).
    await stack.ready();
    const { rows: running } = await ctx.db.query<{ id: string }>(
      `SELECT id FROM sessions WHERE workspace_id = $1 AND status = 'RUNNING'`,
      [workspaceId],
    );
    await Promise.all(running.map((r) => traffic.release(r.id)));
    const violations = [...traffic.violations];
    let open: string[] = [];
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(500)) {
      open = [
        ...(await unsettled(deps)),
        ...(await capacityViolations(deps)),
        ...(await podViolations(deps)),
      ];
      if (open.length === 0) break;
    }
    violations.push(...open, ...(await sessionViolations(deps, traffic)));
    const { rows: live } = await ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sessions WHERE workspace_id = $1 AND status NOT IN ('COMPLETED','EXPIRED','ERRORED')`,
      [workspaceId],
    );
    sampler.stop();
    const trends = sampler.trends();
    const client = Object.fromEntries(traffic.outcomes);
    return {
      startedAt: new Date(started).toISOString(),
      options: {
        durationMs: options.durationMs,
        rate: options.rate,
        faultEveryMs: options.faultEveryMs,
        seed: options.seed,
        maxTotal: options.maxTotal,
        sampleEveryMs: options.sampleEveryMs,
      },
      durationMs: Date.now() - started,
      lifecycles: Object.fromEntries(traffic.lifecycles),
      outcomes: await outcomeCounts(ctx.db, workspaceId),
      client,
      http503: Object.entries(client)
        .filter(([k]) => / 503\b/.test(k))
        .reduce((n, [, v]) => n + v, 0),
      faults,
      trends,
      violations,
      unsettledAfterDrain: live[0]!.n,
      verdict: { flat: trends.every((t) => t.flat), invariants: violations.length === 0 && live[0]!.n === 0 },
    };
  } finally {
    await stack?.close();
    await driver.close();
    redis.disconnect();
    await ctx.close();
  }
}
