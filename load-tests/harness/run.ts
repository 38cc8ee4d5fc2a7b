/**
 * One load run against any deployment, over HTTP only: check the target and the key, prepare the
 * scenario, run the open-loop arrivals with a progress line, and write the report. `ventus load`
 * and `npm run bench` both come through here.
 */
import { churnScenario } from '../scenarios/churn.scenario.ts';
import { createScenario } from '../scenarios/create.scenario.ts';
import { lifecycleScenario } from '../scenarios/lifecycle.scenario.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { detectDriver, machine } from './environment.ts';
import { HttpClient } from './http-client.ts';
import { Progress } from './progress.ts';
import { buildReport, type Report } from './report.ts';
import { OpenLoop } from './scheduler.ts';
import { timestampedBase, writeReport, type ReportFiles } from './write-report.ts';

export const SCENARIOS = {
  create: createScenario,
  churn: churnScenario,
  lifecycle: lifecycleScenario,
} as const satisfies Record<string, Scenario>;
export type ScenarioName = keyof typeof SCENARIOS;

export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name);
}

export interface LoadOptions {
  target: string;
  apiKey: string;
  scenario: ScenarioName;
  rate: number;
  durationSeconds: number;
  concurrency: number;
  outDir: string;
  /** File name without extension; default `<scenario>-<timestamp>`. */
  baseName?: string;
  driverLabel?: string;
  pageUrl?: string;
  /** Lines for the report's notes (how the target was set up…), before the scenario's own. */
  notes?: string[];
  /** Draw the progress line (default true). */
  progress?: boolean;
}

/** The target or the key is not usable; `exitCode` 2 when a flag is at fault. */
export class LoadSetupError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

/** `/healthz` answers 200 and the key is accepted; else a LoadSetupError. */
export async function preflight(http: HttpClient, target: string): Promise<void> {
  const health = await http.request('GET', '/healthz').catch((err: unknown) => {
    throw new LoadSetupError(`${target} does not answer: ${(err as Error).message}`, 1);
  });
  if (health.status !== 200) throw new LoadSetupError(`${target}/healthz answered ${health.status}`, 1);
  const auth = await http.request('GET', '/v1/sessions?limit=1');
  if (auth.status === 401 || auth.status === 403) {
    throw new LoadSetupError(
      `--api-key was refused (${auth.status}): a key with sessions:read and sessions:write is needed`,
      2,
    );
  }
}

export async function runLoad(options: LoadOptions): Promise<{ report: Report; files: ReportFiles }> {
  const scenario = SCENARIOS[options.scenario];
  const http = new HttpClient(options.target, { authorization: `Bearer ${options.apiKey}` });
  try {
    await preflight(http, options.target);
    const driver = await detectDriver(http, options.driverLabel);
    const prepared = await scenario.prepare({
      target: options.target,
      http,
      ...(options.pageUrl !== undefined && { pageUrl: options.pageUrl }),
    });
    const progress = new Progress(scenario.name, options.durationSeconds);
    const loop = new OpenLoop({
      rate: options.rate,
      durationMs: options.durationSeconds * 1000,
      concurrency: options.concurrency,
      task: prepared.task,
      onSample: progress.record,
    });
    if (options.progress !== false) progress.start(loop);
    let result;
    try {
      result = await loop.run();
    } finally {
      if (options.progress !== false) progress.stop(loop);
      await prepared.close();
    }
    const report = buildReport({
      config: {
        scenario: scenario.name,
        rate: options.rate,
        durationSeconds: options.durationSeconds,
        concurrency: options.concurrency,
      },
      description: scenario.description,
      environment: {
        target: options.target,
        driver,
        machine: machine(),
        date: result.startedAt.toISOString(),
      },
      result,
      steps: scenario.steps,
      outcomes: scenario.outcomes,
      notes: [...(options.notes ?? []), ...prepared.notes],
    });
    const base = options.baseName ?? timestampedBase(scenario.name, result.startedAt);
    return { report, files: await writeReport(report, options.outDir, base) };
  } finally {
    http.close();
  }
}
