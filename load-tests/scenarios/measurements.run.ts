/**
 * `ventus load --scenario cdp|pool-sweep|timers|concurrent`: measurements that are not one open-loop run of a task
 * (see harness/run.ts for those), with the same preflight, driver detection and report files.
 */
import { detectDriver } from '../harness/environment.ts';
import { HttpClient } from '../harness/http-client.ts';
import { LoadSetupError, preflight } from '../harness/run.ts';
import { timestampedBase } from '../harness/write-report.ts';
import { runCdp, type CdpReport, type DirectSocket } from './cdp.scenario.ts';
import { writeCdpReport, type CdpFiles } from './cdp.report.ts';
import { runPoolSweep, type PoolSetting, type PoolSweepReport } from './pool-sweep.scenario.ts';
import { writePoolSweepReport, type PoolSweepFiles } from './pool-sweep.report.ts';
import { withSignals } from './fleet.ts';
import { runTimers, type TimersReport } from './timers.scenario.ts';
import { writeTimersReport, type FleetFiles } from './timers.report.ts';
import { runConcurrent, type ConcurrentReport } from './concurrent.scenario.ts';
import { writeConcurrentReport } from './concurrent.report.ts';

interface Common {
  target: string;
  apiKey: string;
  outDir: string;
  baseName?: string;
  driverLabel?: string;
  notes?: string[];
}

export interface CdpRunOptions extends Common {
  sessionId?: string;
  direct?: DirectSocket;
  roundTrips: number;
  screenshots: number;
}

export interface PoolSweepRunOptions extends Common {
  pool?: string;
  settings: PoolSetting[];
  rate: number;
  durationSeconds: number;
  sessionSeconds: number;
  concurrency: number;
  seed?: number;
}

interface FleetCommon extends Common {
  rate: number;
  durationSeconds: number;
  concurrency: number;
  pool?: string;
  metricsToken?: string;
}

export interface TimersRunOptions extends FleetCommon {
  pending: number;
  plantConcurrency: number;
  windowSeconds: number;
  firstDueSeconds: number;
  horizonSeconds: number;
  graceSeconds?: number;
}

export interface ConcurrentRunOptions extends FleetCommon {
  sessions: number;
  createConcurrency: number;
}

async function withClient<T>(options: Common, fn: (http: HttpClient) => Promise<T>): Promise<T> {
  const http = new HttpClient(options.target, { authorization: `Bearer ${options.apiKey}` });
  try {
    await preflight(http, options.target);
    return await fn(http);
  } finally {
    http.close();
  }
}

export function runCdpLoad(options: CdpRunOptions): Promise<{ report: CdpReport; files: CdpFiles }> {
  return withClient(options, async (http) => {
    const report = await runCdp({
      http,
      target: options.target,
      driver: await detectDriver(http, options.driverLabel),
      roundTrips: options.roundTrips,
      screenshots: options.screenshots,
      ...(options.sessionId !== undefined && { sessionId: options.sessionId }),
      ...(options.direct !== undefined && { direct: options.direct }),
      ...(options.notes !== undefined && { notes: options.notes }),
    });
    const base = options.baseName ?? timestampedBase('cdp', new Date(report.environment.date));
    return { report, files: await writeCdpReport(report, options.outDir, base) };
  });
}

export function runPoolSweepLoad(
  options: PoolSweepRunOptions,
): Promise<{ report: PoolSweepReport; files: PoolSweepFiles }> {
  return withClient(options, async (http) => {
    const pools = await http.request('GET', '/v1/pools');
    if (pools.status === 403) {
      throw new LoadSetupError(
        '--api-key lacks the operator scope that pool-sweep needs (PATCH /v1/pools)',
        2,
      );
    }
    const report = await runPoolSweep({
      http,
      target: options.target,
      driver: await detectDriver(http, options.driverLabel),
      settings: options.settings,
      rate: options.rate,
      durationSeconds: options.durationSeconds,
      sessionSeconds: options.sessionSeconds,
      concurrency: options.concurrency,
      log: (line) => process.stderr.write(`${line}\n`),
      ...(options.pool !== undefined && { pool: options.pool }),
      ...(options.seed !== undefined && { seed: options.seed }),
      ...(options.notes !== undefined && { notes: options.notes }),
    });
    const base = options.baseName ?? timestampedBase('pool-sweep', new Date(report.environment.date));
    return { report, files: await writePoolSweepReport(report, options.outDir, base) };
  });
}

const stderrLine = (line: string) => process.stderr.write(`${line}\n`);

export function runTimersLoad(
  options: TimersRunOptions,
): Promise<{ report: TimersReport; files: FleetFiles }> {
  return withClient(options, (http) =>
    withSignals(async (signal) => {
      const { baseName, outDir, driverLabel, apiKey: _key, ...rest } = options;
      void _key;
      const report = await runTimers({
        ...rest,
        http,
        driver: await detectDriver(http, driverLabel),
        log: stderrLine,
        signal,
      });
      const base = baseName ?? timestampedBase('timers', new Date(report.environment.date));
      return { report, files: await writeTimersReport(report, outDir, base) };
    }),
  );
}

export function runConcurrentLoad(
  options: ConcurrentRunOptions,
): Promise<{ report: ConcurrentReport; files: FleetFiles }> {
  return withClient(options, (http) =>
    withSignals(async (signal) => {
      const { baseName, outDir, driverLabel, apiKey: _key, ...rest } = options;
      void _key;
      const report = await runConcurrent({
        ...rest,
        http,
        driver: await detectDriver(http, driverLabel),
        log: stderrLine,
        signal,
      });
      const base = baseName ?? timestampedBase('concurrent', new Date(report.environment.date));
      return { report, files: await writeConcurrentReport(report, outDir, base) };
    }),
  );
}
