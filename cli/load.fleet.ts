/**
 * `ventus load --scenario timers|concurrent`: flag checks and the run. Both hold many sessions at
 * once (see load-tests/scenarios/fleet.ts) and release them at the end, also on Ctrl-C.
 */
import { duration, fileBase, httpUrl, positive, printMeasurement, type Fail } from './load.flags.ts';

export const FLEET_SCENARIOS = ['timers', 'concurrent'] as const;
export type FleetScenario = (typeof FLEET_SCENARIOS)[number];

/** The API's least `timeout_seconds`: no expiry can be due sooner after a session starts. */
const MIN_FIRST_DUE = 60;

export async function fleetMeasurement(
  scenario: FleetScenario,
  str: (flag: string) => string | undefined,
  apiKey: string,
  json: boolean,
  fail: Fail,
): Promise<void> {
  const num = (flag: string, fallback: string, max: number, whole = false) =>
    positive(flag, str(flag) ?? fallback, max, fail, whole);
  const common = {
    target: httpUrl('target', str('target')!, fail),
    apiKey,
    outDir: str('out')!,
    concurrency: num('concurrency', '64', 100_000, true),
    ...(str('name') !== undefined && { baseName: fileBase(str('name')!, fail) }),
    ...(str('driver-label') !== undefined && { driverLabel: str('driver-label')! }),
    ...(str('pool') !== undefined && { pool: str('pool')! }),
    ...(str('metrics-token') !== undefined && { metricsToken: str('metrics-token')! }),
  };
  const { runTimersLoad, runConcurrentLoad } = await import('../load-tests/scenarios/measurements.run.ts');
  const { LoadSetupError } = await import('../load-tests/harness/run.ts');
  try {
    if (scenario === 'timers') {
      const windowSeconds = duration(str('window') ?? '60', fail, 'window');
      const firstDueSeconds = duration(
        str('first-due') ?? String(MIN_FIRST_DUE),
        fail,
        'first-due',
        MIN_FIRST_DUE,
      );
      const horizonSeconds = duration(
        str('horizon') ?? String(Math.max(3600, 10 * windowSeconds)),
        fail,
        'horizon',
      );
      if (horizonSeconds < windowSeconds) fail('--horizon must be at least --window');
      if (firstDueSeconds + horizonSeconds > 86_400) {
        fail('--first-due + --horizon: at most 24h (the API’s largest timeout_seconds)');
      }
      const rate = num('rate', '20', 100_000);
      const durationSeconds = duration(str('duration') ?? '30', fail);
      if (rate * durationSeconds < 1) fail('--rate × --duration is below one request');
      return printMeasurement(
        await runTimersLoad({
          ...common,
          pending: num('pending', '', 100_000, true),
          plantConcurrency: num('plant-concurrency', '32', 1000, true),
          rate,
          durationSeconds,
          windowSeconds,
          firstDueSeconds,
          horizonSeconds,
        }),
        json,
      );
    }
    const rate = num('rate', '200', 100_000);
    const durationSeconds = duration(str('duration') ?? '30', fail);
    if (rate * durationSeconds < 1) fail('--rate × --duration is below one request');
    return printMeasurement(
      await runConcurrentLoad({
        ...common,
        sessions: num('sessions', '', 100_000, true),
        createConcurrency: num('plant-concurrency', '32', 1000, true),
        rate,
        durationSeconds,
      }),
      json,
    );
  } catch (err) {
    if (err instanceof LoadSetupError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err.exitCode);
    }
    throw err;
  }
}
