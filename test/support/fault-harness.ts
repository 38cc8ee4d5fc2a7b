/**
 * A four-process stack on the sim driver (cheap pods, real Postgres/Redis/BullMQ), a stream of
 * lifecycles against it, and the invariants every fault test checks once the stream has drained.
 */
import { testLocalDriver } from './local-driver.ts';
import path from 'node:path';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { TestContext, type TestContextOptions } from './test-context.ts';
import { ProcessStack } from './process-stack.ts';
import { eventually } from './eventually.ts';
import { SimDriver } from '../../core/runtime/sim/sim.driver.ts';
import { LocalDriver } from '../../core/runtime/local.driver.ts';
import { Traffic, type TrafficOptions } from '../../load-tests/soak/traffic.ts';
import {
  capacityViolations,
  outcomeCounts,
  podViolations,
  sessionViolations,
  unsettled,
  type InvariantDeps,
} from '../../load-tests/soak/invariants.ts';

export const POOL = 'us-east1-chromium';

/** A short orphan grace so leaks show within a test, no rate limit in the way. */
const COMMON_ENV = { VENTUS_ORPHAN_GRACE_MS: '2000', VENTUS_RATE_LIMIT_PER_MINUTE: '1000000' };
/** Sim pods (cheap), or real headless Chromium when the browser itself is what fails. */
const DRIVER_ENV = {
  sim: { VENTUS_DRIVER: 'sim', VENTUS_SIM_READY_MS: '50' },
  local: { VENTUS_DRIVER: 'local', VENTUS_HEADLESS: 'true' },
};

export class FaultHarness {
  private constructor(
    readonly ctx: TestContext,
    readonly stack: ProcessStack,
    readonly deps: InvariantDeps,
    private readonly redis: Redis,
    readonly driver: SimDriver | LocalDriver,
  ) {}

  static async start(
    options: TestContextOptions & { minReady: number; maxTotal: number; driver?: 'sim' | 'local' },
  ): Promise<FaultHarness> {
    const env = { ...COMMON_ENV, ...DRIVER_ENV[options.driver ?? 'sim'], ...options.env };
    const ctx = await TestContext.create({ ...options, env });
    const stack = await ProcessStack.start(ctx, env).catch(async (err: unknown) => {
      await ctx.close(); // its database, keys, pods and sim server
      throw err;
    });
    // Commands wait through a Redis restart rather than fail (the checks run after recovery).
    const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: null }).on('error', () => undefined);
    const driver =
      options.driver === 'local'
        ? testLocalDriver(path.join(ctx.dataDir, 'pods'))
        : new SimDriver({ stateDir: path.join(ctx.dataDir, 'sim') });
    const deps: InvariantDeps = {
      db: ctx.db,
      redis,
      prefix: ctx.name,
      pool: POOL,
      workspaceId: '',
      podIds: async () =>
        (driver instanceof SimDriver ? await driver.serverPods() : await driver.listPods()).map((p) => p.id),
    };
    return new FaultHarness(ctx, stack, deps, redis, driver);
  }

  /** Clients of a workspace of their own: the invariants then read only this stream's sessions. */
  async traffic(options: Partial<TrafficOptions> = {}): Promise<Traffic> {
    const { apiKey, workspaceId } = await this.ctx.seedKey();
    this.deps.workspaceId = workspaceId;
    return new Traffic({ brokerUrl: this.stack.brokerUrl, apiKey, ...options });
  }

  /**
   * After the stream: every session RUNNING or ended (running ones are released here, so the pods
   * can be checked to drain), transitions legal, nothing lost or duplicated, slots == live sessions,
   * no pod leaked past the orphan grace.
   */
  async assertInvariants(traffic: Traffic, what: string): Promise<void> {
    const logs = () =>
      [...this.stack.output].map(([name, out]) => `--- ${name}\n${out.slice(-3_000)}`).join('\n');
    await eventually(
      `${what}: every session RUNNING or ended`,
      async () => (await unsettled(this.deps)).length === 0,
      {
        timeoutMs: 60_000,
        everyMs: 250,
      },
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${(await unsettled(this.deps)).join('\n')}\n${logs()}`);
    });
    expect(await sessionViolations(this.deps, traffic), what).toEqual([]);
    expect(traffic.violations, `${what}: client-side violations`).toEqual([]);
    const settle = async (label: string, check: () => Promise<string[]>) => {
      let last: string[] = [];
      // 45 s: a slot admitted by a broker killed before its commit is freed after 30 s (ADMISSION_GRACE_MS).
      await eventually(label, async () => (last = await check()).length === 0, {
        timeoutMs: 45_000,
        everyMs: 250,
      }).catch((err: Error) => {
        throw new Error(`${err.message}\n${last.join('\n')}\n${logs()}`);
      });
    };
    await settle(`${what}: slots == live sessions`, () => capacityViolations(this.deps));
    await settle(`${what}: no pod leaked`, () => podViolations(this.deps));
    // For the record of runs: what the clients saw and how the sessions ended.
    console.log(
      `[fault] ${what}\n  client: ${JSON.stringify(Object.fromEntries(traffic.outcomes))}\n  sessions: ${JSON.stringify(
        await outcomeCounts(this.ctx.db, this.deps.workspaceId),
      )}`,
    );
  }

  /** Ends every RUNNING session of the workspace (so the next stream starts from an idle pool). */
  async releaseAll(traffic: Traffic): Promise<void> {
    const { rows } = await this.ctx.db.query<{ id: string }>(
      `SELECT id FROM sessions WHERE workspace_id = $1 AND status = 'RUNNING'`,
      [this.deps.workspaceId],
    );
    await Promise.all(rows.map((r) => traffic.release(r.id)));
  }

  async close(): Promise<void> {
    await this.stack.close();
    await this.driver.close();
    this.redis.disconnect();
    await this.ctx.close();
  }
}
