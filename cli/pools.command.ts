/**
 * `ventus pools list|set|advise`: read pool settings with live figures, change them live (the
 * same validated, audited path as `PATCH /v1/pools/{name}`), and size them with Erlang-B from
 * given or observed traffic. Bad flags, an unknown pool or a refused change exit 2.
 */
import { parseArgs } from 'node:util';
import type { Config } from '../core/config/config.ts';
import type { Database } from '../core/db/database.ts';
import {
  DEFAULT_MAX_STARTING,
  getPool,
  listPools,
  type PoolPatch,
  type PoolSettings,
} from '../core/db/pools.repository.ts';
import { liveStatusCounts } from '../core/db/live-sessions.repository.ts';
import { changePool, type PoolChangeActor } from '../core/pools/change-pool.ts';
import { advise, predict } from '../core/capacity/erlang-b.ts';
import { DEFAULT_WINDOW_SECONDS, observeLoad, type ObservedLoad } from '../core/capacity/observed-load.ts';
import { connectLive, type LiveRedis } from './pools.live.ts';
import { announcePoolSettings } from '../core/pools/announce-settings.ts';
import { createPoolCommand, parseNewPool, retirePoolCommand, wholeNumber } from './pools.lifecycle.ts';
import {
  adviceJson,
  adviceText,
  changeText,
  poolJson,
  poolsText,
  type AdviceReport,
  type InputSource,
  type PoolStatus,
} from './pools.output.ts';

export const POOLS_USAGE = `  ventus pools list [--json]
  ventus pools set <name> [--min-ready N] [--max-total N] [--max-starting N|none] [--json]
  ventus pools create <region> <chromium|rda> --min-ready N --max-total N [--max-starting N]
                      [--image IMAGE] [--node-selector k=v[,k=v]] [--json]
  ventus pools retire <name> [--json]
  ventus pools advise --arrival-rate R --mean-session S --start-seconds T
                      [--target-503 0.01] [--target-warm-hit 0.95] [--json]
  ventus pools advise --pool <name> [--window 1h] [any flag above, to override an observation]`;

export interface PoolsCommandDeps {
  readConfig: () => Config;
  withDatabase: <T>(config: Config, fn: (db: Database) => Promise<T>) => Promise<T>;
  /** Prints the message to stderr and exits 2. */
  fail: (message: string) => never;
}

const CLI_ACTOR: PoolChangeActor = { id: 'cli', class: 'admin', workspaceId: null };
/** What the controller does with `max_starting: null` (the API documents it as the default, 4). */

const OPTIONS = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  'min-ready': { type: 'string' },
  'max-total': { type: 'string' },
  'max-starting': { type: 'string' },
  'arrival-rate': { type: 'string' },
  'mean-session': { type: 'string' },
  'start-seconds': { type: 'string' },
  'target-503': { type: 'string' },
  'target-warm-hit': { type: 'string' },
  pool: { type: 'string' },
  window: { type: 'string' },
  image: { type: 'string' },
  'node-selector': { type: 'string' },
} as const;
type Flag = keyof typeof OPTIONS;
type Values = Partial<Record<Flag, string | boolean>>;

const ALLOWED: Record<string, Flag[]> = {
  list: ['json'],
  set: ['json', 'min-ready', 'max-total', 'max-starting'],
  create: ['json', 'min-ready', 'max-total', 'max-starting', 'image', 'node-selector'],
  retire: ['json'],
  advise: [
    'json',
    'arrival-rate',
    'mean-session',
    'start-seconds',
    'target-503',
    'target-warm-hit',
    'pool',
    'window',
  ],
};

const warn = (message: string) => process.stderr.write(`warning: ${message}\n`);
const print = (text: string) => process.stdout.write(`${text}\n`);

export async function poolsCommand(argv: string[], deps: PoolsCommandDeps): Promise<void> {
  const { fail } = deps;
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return fail(`${(err as Error).message}\nusage:\n${POOLS_USAGE}`);
  }
  const { values, positionals } = parsed;
  const [sub, name, ...extra] = positionals;
  if (values.help || !sub) return void process.stdout.write(`usage:\n${POOLS_USAGE}\n`);
  const allowed = ALLOWED[sub];
  if (!allowed) return fail(`unknown command: ventus pools ${sub}\nusage:\n${POOLS_USAGE}`);
  const stray = (Object.keys(values) as Flag[]).filter(
    (f) => !allowed.includes(f) && f !== 'help' && values[f] !== false,
  );
  if (stray.length > 0)
    fail(`${stray.map((f) => `--${f}`).join(', ')}: not an option of ventus pools ${sub}`);
  const json = values.json === true;
  switch (sub) {
    case 'list':
      if (name !== undefined) fail('usage: ventus pools list [--json]');
      return list(deps, json);
    case 'set':
      if (!name || extra.length > 0)
        return fail('usage: ventus pools set <name> [--min-ready N] [--max-total N] ...');
      return set(deps, name, parsePatch(values, fail), json);
    case 'create': {
      const kind = extra[0];
      if (!name || !kind || extra.length > 1) return fail(`usage:\n${POOLS_USAGE}`);
      return createPoolCommand(deps, parseNewPool(name, kind, values, fail), json);
    }
    case 'retire':
      if (!name || extra.length > 0) return fail('usage: ventus pools retire <name> [--json]');
      return retirePoolCommand(deps, name, json);
    case 'advise':
      if (name !== undefined) fail(`unexpected argument ${name}: name the pool with --pool <name>`);
      return adviseCommand(deps, values, json);
  }
}

async function liveStatus(db: Database, live: LiveRedis | undefined, pool: string): Promise<PoolStatus> {
  const counts = await liveStatusCounts(db, pool);
  const redis = live
    ? await Promise.all([
        live.pools.warmPods.ids(pool),
        live.pools.warmPods.startingIds(pool),
        live.pools.poolSlots.activeCount(pool),
        live.pools.warmPods.warmupMs(pool),
      ])
    : undefined;
  return {
    ready: redis ? redis[0].length : null,
    warming: redis ? redis[1].length : null,
    admitted: redis ? redis[2] : null,
    queued: counts.queued,
    held: counts.provisioning + counts.running,
    warmup_ms: redis?.[3] ?? null,
  };
}

async function list(deps: PoolsCommandDeps, json: boolean): Promise<void> {
  const config = deps.readConfig();
  const { live, problem } = await connectLive(config);
  if (problem) warn(`${problem}: ready, warming, admitted and warm-up are not shown`);
  try {
    const pools = await deps.withDatabase(config, async (db) =>
      Promise.all(
        (await listPools(db)).map(async (settings) => ({
          settings,
          status: await liveStatus(db, live, settings.name),
        })),
      ),
    );
    print(
      json
        ? JSON.stringify({
            data: pools.map((p) => ({ ...poolJson(p.settings), status: p.status })),
            live: live !== undefined,
          })
        : poolsText(pools),
    );
  } finally {
    live?.close();
  }
}

function parsePatch(values: Values, fail: (m: string) => never): PoolPatch {
  const str = (f: Flag) => (typeof values[f] === 'string' ? values[f] : undefined);
  const patch: PoolPatch = {};
  const minReady = str('min-ready');
  const maxTotal = str('max-total');
  const maxStarting = str('max-starting');
  if (minReady !== undefined) patch.minReady = wholeNumber('min-ready', minReady, 0, 10_000, fail);
  if (maxTotal !== undefined) patch.maxTotal = wholeNumber('max-total', maxTotal, 0, 100_000, fail);
  if (maxStarting !== undefined) {
    patch.maxStarting =
      maxStarting.trim() === 'none' ? null : wholeNumber('max-starting', maxStarting, 1, 1000, fail);
  }
  if (Object.keys(patch).length === 0)
    fail('nothing to change: pass --min-ready, --max-total or --max-starting');
  return patch;
}

async function set(deps: PoolsCommandDeps, name: string, patch: PoolPatch, json: boolean): Promise<void> {
  const config = deps.readConfig();
  const { live, problem } = await connectLive(config);
  let signalled = false;
  try {
    const outcome = await deps.withDatabase(config, async (db) => {
      const result = await changePool(
        {
          db,
          // The change is committed by now: a failed wake-up only delays it to the next pass.
          announce: async (pool) => {
            if (!live) return;
            await announcePoolSettings(live.pools, pool).then(
              () => (signalled = true),
              () => {},
            );
          },
        },
        name,
        patch,
        CLI_ACTOR,
      );
      return {
        result,
        names: result.outcome === 'not-found' ? (await listPools(db)).map((p) => p.name) : [],
      };
    });
    const { result } = outcome;
    if (result.outcome === 'not-found') {
      return deps.fail(`no pool named ${name} (pools: ${outcome.names.join(', ') || 'none'})`);
    }
    if (result.outcome === 'invalid') return deps.fail(`refused: ${result.reason}`);
    if (!signalled) {
      warn(
        `${problem ?? 'could not publish to Redis'}: the pool controller applies the change on its next pass ` +
          'instead of at once',
      );
    }
    const { before, after } = result;
    print(
      json
        ? JSON.stringify({
            ...poolJson(after),
            previous: {
              min_ready: before.minReady,
              max_total: before.maxTotal,
              max_starting: before.maxStarting,
            },
            controller_signalled: signalled,
          })
        : changeText(before, after),
    );
  } finally {
    live?.close();
  }
}

/** `90`, `90s`, `15m`, `1h`, `2d` -> seconds. */
function parseWindow(raw: string, fail: (m: string) => never): number {
  const match = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(raw.trim());
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match?.[2] ?? ''] ?? 1;
  const seconds = match ? Number(match[1]) * unit : Number.NaN;
  if (!(seconds > 0 && seconds <= 30 * 86_400)) {
    fail(`--window=${JSON.stringify(raw)}: expected a duration such as 90s, 15m, 1h or 2d (at most 30d)`);
  }
  return seconds;
}

function describeWindow(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

function decimal(flag: Flag, raw: string | undefined, fail: (m: string) => never): number | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value)) fail(`--${flag}=${JSON.stringify(raw)}: expected a number`);
  return value;
}

type Given = { arrivalRate?: number; meanSession?: number; startSeconds?: number };
type Inputs = Pick<AdviceReport, 'traffic' | 'sources'> & {
  pool?: { settings: PoolSettings; observed: ObservedLoad };
};

async function adviseCommand(deps: PoolsCommandDeps, values: Values, json: boolean): Promise<void> {
  const { fail } = deps;
  const str = (f: Flag) => (typeof values[f] === 'string' ? values[f] : undefined);
  const given: Given = {
    arrivalRate: decimal('arrival-rate', str('arrival-rate'), fail),
    meanSession: decimal('mean-session', str('mean-session'), fail),
    startSeconds: decimal('start-seconds', str('start-seconds'), fail),
  };
  const target503Rate = decimal('target-503', str('target-503'), fail);
  const targetWarmHitRate = decimal('target-warm-hit', str('target-warm-hit'), fail);
  const poolName = str('pool');
  const windowRaw = str('window');
  if (windowRaw !== undefined && poolName === undefined) fail('--window needs --pool <name>');
  const windowSeconds = windowRaw === undefined ? DEFAULT_WINDOW_SECONDS : parseWindow(windowRaw, fail);
  const inputs =
    poolName === undefined
      ? fromFlags(given, fail)
      : await fromObservations(deps, poolName, describeWindow(windowSeconds), windowSeconds, given);
  let report: AdviceReport;
  try {
    const advice = advise({
      ...inputs.traffic,
      ...(target503Rate !== undefined && { target503Rate }),
      ...(targetWarmHitRate !== undefined && { targetWarmHitRate }),
    });
    const { pool, ...rest } = inputs;
    report = {
      ...rest,
      advice,
      ...(pool && { pool: { ...pool, current: predict(inputs.traffic, pool.settings) } }),
    };
  } catch (err) {
    if (err instanceof RangeError) return fail(`cannot advise: ${err.message}`);
    throw err;
  }
  const maxStarting = report.pool?.settings.maxStarting ?? DEFAULT_MAX_STARTING;
  if (report.pool && report.advice.minReady > maxStarting) {
    report.advice.notes.push(
      `max_starting (${maxStarting}) is below the recommended min_ready: replacements wait for each other ` +
        'and fewer requests find a warm pod than predicted; raise max_starting to at least min_ready.',
    );
  }
  print(json ? JSON.stringify(adviceJson(report)) : adviceText(report, describeWindow(windowSeconds)));
}

function fromFlags(given: Given, fail: (m: string) => never): Inputs {
  const { arrivalRate, meanSession, startSeconds } = given;
  if (arrivalRate === undefined || meanSession === undefined || startSeconds === undefined) {
    const missing = [
      arrivalRate === undefined && '--arrival-rate',
      meanSession === undefined && '--mean-session',
      startSeconds === undefined && '--start-seconds',
    ].filter(Boolean);
    return fail(
      `missing ${missing.join(', ')}: give the traffic with these flags, or observe it with --pool <name>`,
    );
  }
  return {
    traffic: { arrivalRatePerSecond: arrivalRate, meanSessionSeconds: meanSession, startSeconds },
    sources: { arrivalRate: 'flag', meanSession: 'flag', startSeconds: 'flag' },
  };
}

/** Traffic observed on the pool; a flag, when given, overrides its observation. */
async function fromObservations(
  deps: PoolsCommandDeps,
  poolName: string,
  windowText: string,
  windowSeconds: number,
  given: Given,
): Promise<Inputs> {
  const { fail } = deps;
  const config = deps.readConfig();
  const { live, problem } = await connectLive(config);
  let found: { settings: PoolSettings; observed: ObservedLoad } | { names: string[] };
  try {
    found = await deps.withDatabase(config, async (db) => {
      const settings = await getPool(db, poolName);
      if (!settings) return { names: (await listPools(db)).map((p) => p.name) };
      return {
        settings,
        observed: await observeLoad({ db, pools: live?.pools.warmPods }, poolName, { windowSeconds }),
      };
    });
  } finally {
    live?.close();
  }
  if ('names' in found) return fail(`no pool named ${poolName} (pools: ${found.names.join(', ') || 'none'})`);
  const { observed } = found;
  const meanSession = given.meanSession ?? observed.meanSessionSeconds;
  if (meanSession === undefined) {
    return fail(`no session of pool ${poolName} ended in the last ${windowText}: pass --mean-session S`);
  }
  const startSeconds =
    given.startSeconds ?? (observed.warmupMs === undefined ? undefined : observed.warmupMs / 1000);
  if (startSeconds === undefined) {
    return fail(`${problem ?? `pool ${poolName} has no pod start times yet`}: pass --start-seconds T`);
  }
  const source = (flag: number | undefined): InputSource => (flag === undefined ? 'observed' : 'flag');
  return {
    traffic: {
      arrivalRatePerSecond: given.arrivalRate ?? observed.arrivalRatePerSecond,
      meanSessionSeconds: meanSession,
      startSeconds,
    },
    sources: {
      arrivalRate: source(given.arrivalRate),
      meanSession: source(given.meanSession),
      startSeconds: source(given.startSeconds),
    },
    pool: found,
  };
}
