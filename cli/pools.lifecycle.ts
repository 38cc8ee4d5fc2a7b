/**
 * `ventus pools create` and `ventus pools retire`: the same validated, audited path as
 * `POST /v1/pools` and `DELETE /v1/pools/{name}` (core/pools/pool-lifecycle.ts), run against the
 * database directly with actor `cli`.
 */
import type { Config } from '../core/config/config.ts';
import type { Database } from '../core/db/database.ts';
import type { NewPool, PoolSettings } from '../core/db/pools.repository.ts';
import { RUNTIME_KINDS } from '../core/domain/session.schema.ts';
import { createPool, retirePool, type PoolChangeActor } from '../core/pools/pool-lifecycle.ts';
import { connectLive } from './pools.live.ts';
import { announcePoolSettings } from '../core/pools/announce-settings.ts';
import { poolJson } from './pools.output.ts';

export interface PoolLifecycleCliDeps {
  readConfig: () => Config;
  withDatabase: <T>(config: Config, fn: (db: Database) => Promise<T>) => Promise<T>;
  fail: (message: string) => never;
}

const CLI_ACTOR: PoolChangeActor = { id: 'cli', class: 'admin', workspaceId: null };
const REGION = /^[a-z0-9][a-z0-9-]{0,40}$/;
const print = (text: string) => process.stdout.write(`${text}\n`);

/** Whole numbers within the bounds `PATCH /v1/pools/{name}` accepts. */
export function wholeNumber(
  flag: string,
  raw: string,
  min: number,
  max: number,
  fail: (m: string) => never,
): number {
  const value = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    fail(`--${flag}=${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
  }
  return value;
}

/** The flags of `ventus pools create`, checked as `POST /v1/pools` checks its body. */
export function parseNewPool(
  region: string,
  kind: string,
  values: Partial<Record<string, string | boolean>>,
  fail: (m: string) => never,
): NewPool {
  checkPoolIdentity(region, kind, fail);
  const str = (f: string) => (typeof values[f] === 'string' ? values[f] : undefined);
  const minReady = str('min-ready');
  const maxTotal = str('max-total');
  if (minReady === undefined || maxTotal === undefined)
    fail('ventus pools create needs --min-ready and --max-total');
  const maxStarting = str('max-starting');
  const image = str('image');
  const nodeSelector = str('node-selector');
  return {
    region,
    runtimeKind: kind,
    minReady: wholeNumber('min-ready', minReady, 0, 10_000, fail),
    maxTotal: wholeNumber('max-total', maxTotal, 0, 100_000, fail),
    maxStarting: maxStarting === undefined ? null : wholeNumber('max-starting', maxStarting, 1, 1000, fail),
    podTemplate: {
      ...(image !== undefined && { image }),
      ...(nodeSelector !== undefined && { node_selector: parseNodeSelector(nodeSelector, fail) }),
    },
  };
}

/** `k=v,k2=v2` (a Kubernetes node selector). */
export function parseNodeSelector(raw: string, fail: (m: string) => never): Record<string, string> {
  const pairs = raw.split(',').map((pair) => pair.split('='));
  if (pairs.some((p) => p.length !== 2 || !p[0]!.trim()))
    fail(`--node-selector=${JSON.stringify(raw)}: expected key=value[,key=value]`);
  return Object.fromEntries(pairs.map(([k, v]) => [k!.trim(), v!.trim()]));
}

/** Checks region and runtime kind as `POST /v1/pools` does. */
export function checkPoolIdentity(region: string, kind: string, fail: (m: string) => never): void {
  if (!REGION.test(region)) fail(`region ${JSON.stringify(region)}: expected e.g. us-east1 ([a-z0-9-])`);
  if (!(RUNTIME_KINDS as readonly string[]).includes(kind))
    fail(`runtime kind ${JSON.stringify(kind)}: expected ${RUNTIME_KINDS.join(' or ')}`);
}

/**
 * Runs `fn` with a way to announce committed settings (a no-op without Redis: the pool controller's
 * next pass publishes them).
 */
async function withAnnounce<T>(
  config: Config,
  fn: (announce: (pool: PoolSettings) => Promise<void>) => Promise<T>,
): Promise<T> {
  const { live } = await connectLive(config);
  try {
    return await fn(async (pool) => {
      if (live) await announcePoolSettings(live.pools, pool).catch(() => {});
    });
  } finally {
    live?.close();
  }
}

export async function createPoolCommand(deps: PoolLifecycleCliDeps, input: NewPool, json: boolean) {
  const config = deps.readConfig();
  const result = await withAnnounce(config, (announce) =>
    deps.withDatabase(config, (db) => createPool({ db, driver: config.driver, announce }, input, CLI_ACTOR)),
  );
  if (result.outcome === 'invalid') return deps.fail(`refused: ${result.reason}`);
  if (result.outcome === 'exists')
    return deps.fail(`pool ${input.region}-${input.runtimeKind} exists; change it with ventus pools set`);
  const { pool } = result;
  print(
    json
      ? JSON.stringify({ ...poolJson(pool), pod_template: pool.podTemplate })
      : `created ${pool.name}: min_ready ${pool.minReady}, max_total ${pool.maxTotal}`,
  );
}

export async function retirePoolCommand(deps: PoolLifecycleCliDeps, name: string, json: boolean) {
  const config = deps.readConfig();
  const retired = await withAnnounce(config, (announce) =>
    deps.withDatabase(config, (db) => retirePool({ db, announce }, name, CLI_ACTOR)),
  );
  if (!retired) return deps.fail(`no live pool named ${name}`);
  print(
    json
      ? JSON.stringify(poolJson(retired))
      : `retired ${name}: no new sessions; its warm pods go, running sessions end as usual`,
  );
}
