/**
 * `ventus load`: open-loop load against any deployment, over its HTTP API only (no database or
 * Redis access, so it needs no configuration of its own). Writes a JSON, Markdown and SVG report
 * (load-tests/harness/); stdout gets the Markdown summary, or with --json one JSON document.
 * Bad flags and a refused key exit 2; an unreachable target exits 1.
 */
import { parseArgs } from 'node:util';
import { FLEET_SCENARIOS, fleetMeasurement, type FleetScenario } from './load.fleet.ts';
import { duration, fileBase, httpUrl, positive, printMeasurement } from './load.flags.ts';
import { AGENT_SECRET_ENV, AGENT_SECRET_HEADER } from '../runtime-image/agent/protocol.ts';
import type { DirectSocket } from '../load-tests/scenarios/cdp.scenario.ts';

export const LOAD_USAGE = `  ventus load --target URL --api-key KEY --scenario create|churn|lifecycle --rate R --duration D
              [--concurrency 64] [--out load-tests/results] [--name BASE] [--driver-label NAME]
              [--page-url URL] [--json]      (KEY may come from VENTUS_API_KEY; D: 30, 30s, 5m)
  ventus load --target URL --api-key KEY --scenario cdp [--round-trips 1000] [--screenshots 50]
              [--session-id ID --direct-url ws://POD:PORT/devtools/browser]   (proxy vs direct;
              the pod agent's secret, when it wants one, comes from VENTUS_AGENT_SECRET)
  ventus load --target URL --api-key OPERATOR_KEY --scenario pool-sweep --settings 4:1,6:2,8:3
              --rate R --duration D --session-seconds S [--pool NAME] [--seed 1]   (per setting)
  ventus load --target URL --api-key KEY --scenario timers --pending N [--rate 20 --duration 30s]
              [--window 60s] [--first-due 60s] [--horizon max(1h, 10×window)] [--plant-concurrency 32]
  ventus load --target URL --api-key KEY --scenario concurrent --sessions N [--rate 200 --duration 30s]
              [--plant-concurrency 32] [--metrics-token TOKEN]
              (timers, concurrent: [--pool NAME]; an operator key lets them raise max_total for the run)`;

const OPTIONS = {
  target: { type: 'string' },
  'api-key': { type: 'string' },
  scenario: { type: 'string' },
  rate: { type: 'string' },
  duration: { type: 'string' },
  concurrency: { type: 'string', default: '64' },
  out: { type: 'string', default: 'load-tests/results' },
  name: { type: 'string' },
  'driver-label': { type: 'string' },
  'page-url': { type: 'string' },
  'round-trips': { type: 'string', default: '1000' },
  screenshots: { type: 'string', default: '50' },
  'session-id': { type: 'string' },
  'direct-url': { type: 'string' },
  settings: { type: 'string' },
  'session-seconds': { type: 'string' },
  pool: { type: 'string' },
  seed: { type: 'string' },
  pending: { type: 'string' },
  window: { type: 'string' },
  'first-due': { type: 'string' },
  horizon: { type: 'string' },
  'plant-concurrency': { type: 'string' },
  sessions: { type: 'string' },
  'metrics-token': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export interface LoadCommandDeps {
  /** Prints the message to stderr and exits 2. */
  fail: (message: string) => never;
}

const MEASUREMENTS = ['cdp', 'pool-sweep'] as const;

/** `cdp` and `pool-sweep`: not one open-loop run, so they have flags and report files of their own. */
async function measurement(
  scenario: (typeof MEASUREMENTS)[number],
  str: (flag: keyof typeof OPTIONS) => string | undefined,
  apiKey: string,
  json: boolean,
  fail: (m: string) => never,
): Promise<void> {
  const common = {
    target: httpUrl('target', str('target')!, fail),
    apiKey,
    outDir: str('out')!,
    ...(str('name') !== undefined && { baseName: fileBase(str('name')!, fail) }),
    ...(str('driver-label') !== undefined && { driverLabel: str('driver-label')! }),
  };
  const { runCdpLoad, runPoolSweepLoad } = await import('../load-tests/scenarios/measurements.run.ts');
  const { LoadSetupError } = await import('../load-tests/harness/run.ts');
  let result: { report: object; files: { markdown: string } };
  try {
    if (scenario === 'cdp') {
      const directUrl = str('direct-url');
      if (directUrl !== undefined && !/^(wss?|ws\+unix):\/\//.test(directUrl)) {
        fail(`--direct-url=${JSON.stringify(directUrl)}: expected a ws://, wss:// or ws+unix:// URL`);
      }
      if (directUrl !== undefined && str('session-id') === undefined) {
        fail('--direct-url needs --session-id: the browser it leads to must be that session’s');
      }
      result = await runCdpLoad({
        ...common,
        roundTrips: positive('round-trips', str('round-trips')!, 1_000_000, fail, true),
        screenshots: positive('screenshots', str('screenshots')!, 10_000, fail, true),
        ...(str('session-id') !== undefined && { sessionId: str('session-id')! }),
        ...(directUrl !== undefined && { direct: directSocket(directUrl) }),
      });
    } else {
      const { parseSettings } = await import('../load-tests/scenarios/pool-sweep.scenario.ts');
      const settings = parseSettings(str('settings')!);
      if (typeof settings === 'string') fail(`--settings: ${settings}`);
      result = await runPoolSweepLoad({
        ...common,
        settings,
        rate: positive('rate', str('rate')!, 100_000, fail),
        durationSeconds: duration(str('duration')!, fail),
        sessionSeconds: positive('session-seconds', str('session-seconds')!, 86_400, fail),
        concurrency: positive('concurrency', str('concurrency')!, 100_000, fail, true),
        ...(str('pool') !== undefined && { pool: str('pool')! }),
        ...(str('seed') !== undefined && { seed: positive('seed', str('seed')!, 2 ** 31, fail, true) }),
      });
    }
  } catch (err) {
    if (err instanceof LoadSetupError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err.exitCode);
    }
    throw err;
  }
  await printMeasurement(result, json);
}

export async function loadCommand(argv: string[], deps: LoadCommandDeps): Promise<void> {
  const { fail } = deps;
  let values: Partial<Record<keyof typeof OPTIONS, string | boolean>>;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    return fail(`${(err as Error).message}\nusage:\n${LOAD_USAGE}`);
  }
  if (values.help) return void process.stdout.write(`usage:\n${LOAD_USAGE}\n`);
  const str = (f: keyof typeof OPTIONS) => (typeof values[f] === 'string' ? values[f] : undefined);
  const apiKey = str('api-key') ?? process.env.VENTUS_API_KEY;
  const scenario = str('scenario');
  const fleet = (FLEET_SCENARIOS as readonly string[]).includes(scenario ?? '');
  const timed = scenario !== 'cdp' && !fleet;
  const missing = [
    !str('target') && '--target',
    !apiKey && '--api-key (or VENTUS_API_KEY)',
    !scenario && '--scenario',
    timed && !str('rate') && '--rate',
    timed && !str('duration') && '--duration',
    scenario === 'pool-sweep' && !str('settings') && '--settings',
    scenario === 'pool-sweep' && !str('session-seconds') && '--session-seconds',
    scenario === 'timers' && !str('pending') && '--pending',
    scenario === 'concurrent' && !str('sessions') && '--sessions',
  ].filter(Boolean);
  if (missing.length > 0) fail(`missing ${missing.join(', ')}\nusage:\n${LOAD_USAGE}`);
  if (scenario === 'cdp' || scenario === 'pool-sweep') {
    return measurement(scenario, str, apiKey!, values.json === true, fail);
  }
  if (fleet) {
    const flag = (f: string) => str(f as keyof typeof OPTIONS);
    return fleetMeasurement(scenario as FleetScenario, flag, apiKey!, values.json === true, fail);
  }
  // Loaded here: the harness (and Playwright, for lifecycle) is not needed by other commands.
  const { runLoad, isScenarioName, SCENARIOS, LoadSetupError } = await import('../load-tests/harness/run.ts');
  if (!isScenarioName(scenario!)) {
    return fail(
      `--scenario=${JSON.stringify(scenario)}: expected one of ${[...Object.keys(SCENARIOS), ...MEASUREMENTS, ...FLEET_SCENARIOS].join(', ')}`,
    );
  }
  const options = {
    target: httpUrl('target', str('target')!, fail),
    apiKey: apiKey!,
    scenario,
    rate: positive('rate', str('rate')!, 100_000, fail),
    durationSeconds: duration(str('duration')!, fail),
    concurrency: positive('concurrency', str('concurrency')!, 100_000, fail, true),
    outDir: str('out')!,
    ...(str('name') !== undefined && { baseName: fileBase(str('name')!, fail) }),
    ...(str('driver-label') !== undefined && { driverLabel: str('driver-label')! }),
    ...(str('page-url') !== undefined && { pageUrl: httpUrl('page-url', str('page-url')!, fail) }),
  };
  if (options.rate * options.durationSeconds < 1) fail('--rate × --duration is below one request');
  try {
    const { report, files } = await runLoad(options);
    // Every sample and the time series are in the JSON file; stdout gets the summary.
    const { timeSeries, ...summary } = report;
    void timeSeries;
    await printMeasurement({ report: summary, files }, values.json === true);
  } catch (err) {
    if (err instanceof LoadSetupError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err.exitCode);
    }
    throw err;
  }
}

/** The direct socket: a pod agent answers only with its secret, which stays off the command line. */
function directSocket(url: string): DirectSocket {
  const secret = process.env[AGENT_SECRET_ENV];
  return { url, ...(secret && { headers: { [AGENT_SECRET_HEADER]: secret } }) };
}
