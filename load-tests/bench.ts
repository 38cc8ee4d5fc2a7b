/**
 * `npm run bench`: a short run of each scenario on a scratch local stack, through the same harness
 * as `ventus load` (over HTTP, as against any deployment), written to load-tests/results/:
 * `latest.md` (committed) and, per scenario, `latest-<scenario>.json` (gitignored) and two SVGs.
 * Each run is `ventus load` in a child process. `create` runs on the sim driver (the control plane,
 * not Chromium, is measured); `lifecycle` and `cdp` (proxy vs direct) on real headless Chromium
 * pods; `pool-sweep` on the sim driver with 300 ms pod starts, three pool settings; `timers` (2,000
 * pending expiries) and `concurrent` (1,000 sessions held) on the sim driver. Uses the machine's
 * Postgres and Redis when they answer, else starts embedded ones (as the test suite does), so a
 * fresh clone needs only `npm install`.
 *
 *   npm run bench [-- --duration 10] [--only create,lifecycle,cdp,pool-sweep,timers,concurrent]
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureServices, ventusLoad } from './harness/bench-services.ts';
import { describeMachine, machine } from './harness/environment.ts';
import { markdownSummary } from './harness/markdown.ts';
import { runningSession } from './harness/scratch-sessions.ts';
import type { Report } from './harness/report.ts';
import type { ScenarioName } from './harness/run.ts';
import { formatMarkdown } from './harness/write-report.ts';
import type { CdpReport } from './scenarios/cdp.scenario.ts';
import { cdpMarkdown } from './scenarios/cdp.report.ts';
import type { PoolSweepReport } from './scenarios/pool-sweep.scenario.ts';
import { poolSweepMarkdown } from './scenarios/pool-sweep.report.ts';
import type { TimersReport } from './scenarios/timers.scenario.ts';
import { timersMarkdown } from './scenarios/timers.report.ts';
import type { ConcurrentReport } from './scenarios/concurrent.scenario.ts';
import { concurrentMarkdown } from './scenarios/concurrent.report.ts';
import { agentWebSocket } from '../core/runtime/agent.client.ts';
import {
  AGENT_BROWSER_PATH,
  AGENT_SECRET_ENV,
  AGENT_SECRET_HEADER,
} from '../runtime-image/agent/protocol.ts';
import type { DirectSocket } from './scenarios/cdp.scenario.ts';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, only: { type: 'string' } },
});
/** `--only cdp,pool-sweep`: a subset of the scenarios (latest.md then holds only those). */
const ONLY = values.only?.split(',');
const DURATION = Number(values.duration);
if (!(DURATION > 0)) throw new Error(`--duration ${values.duration}: expected seconds above 0`);

interface Plan {
  scenario: ScenarioName;
  rate: number;
  concurrency: number;
  /** VENTUS_* settings of the scratch stack. */
  env: Record<string, string>;
  why: string;
}

const PLANS: Plan[] = [
  {
    scenario: 'create',
    // What 2 cores sustain with the whole stack and the load generator on them (50/s saturates).
    rate: 20,
    concurrency: 64,
    env: { VENTUS_DRIVER: 'sim', VENTUS_POOL_MIN_READY: '10', VENTUS_POOL_MAX_TOTAL: '100' },
    why: 'sim driver, pool min_ready 10 / max_total 100',
  },
  {
    scenario: 'lifecycle',
    rate: 1,
    concurrency: 8,
    env: {
      VENTUS_DRIVER: 'local',
      VENTUS_HEADLESS: 'true',
      VENTUS_POOL_MIN_READY: '2',
      VENTUS_POOL_MAX_TOTAL: '6',
    },
    why: 'local driver (headless Chromium), pool min_ready 2 / max_total 6',
  },
];

/**
 * A RUNNING session on the scratch stack, and its pod agent's CDP socket: the proxy's route in
 * Redis and the pod's secret, known here because the stack runs in this process (a deployment's
 * operator passes them to `ventus load --scenario cdp` as --direct-url and VENTUS_AGENT_SECRET).
 */
async function agentSession(bench: ScratchStack): Promise<{ id: string; direct: DirectSocket }> {
  const { id } = await runningSession(bench);
  // The route is published before RUNNING, so a RUNNING session has one.
  const route = await bench.stack.services.sessionRoutes.get(id);
  if (!route) throw new Error(`bench: session ${id} has no route`);
  const pod = { id: route.podId, controlUrl: route.controlUrl };
  return { id, direct: agentWebSocket(bench.stack.services.agentAccess, pod, AGENT_BROWSER_PATH) };
}

/**
 * One `ventus load` measurement (cdp, pool-sweep, timers, concurrent): runs it into
 * `latest-<scenario>.*`, puts how the stack was set up first in the report's notes, and renders the
 * report's Markdown section with its plot.
 */
async function measurement<R extends { notes: string[] }>(
  scenario: string,
  args: string[],
  stackNote: string,
  render: (report: R, svgName: string) => string,
  svgOf: (files: Record<string, string>) => string = (files) => files.svg!,
  env: Record<string, string> = {},
): Promise<string> {
  const { files } = await ventusLoad<Record<string, string>>(
    [...['--scenario', scenario, ...args], ...['--out', RESULTS, '--name', `latest-${scenario}`]],
    env,
  );
  const report = JSON.parse(await readFile(files.json!, 'utf8')) as R;
  report.notes.unshift(stackNote);
  process.stderr.write(`bench: ${scenario} done\n`);
  return render(report, path.basename(svgOf(files)));
}

const apiKeyOf = (bench: ScratchStack) => bench.headers.authorization!.replace(/^Bearer /, '');

/** `cdp` on headless Chromium: 200 round trips and 20 screenshots per side. */
async function benchCdp(): Promise<string> {
  const bench = await startScratchStack({
    VENTUS_DRIVER: 'local',
    VENTUS_HEADLESS: 'true',
    VENTUS_POOL_MIN_READY: '1',
    VENTUS_POOL_MAX_TOTAL: '2',
  });
  try {
    const session = await agentSession(bench);
    return await measurement<CdpReport>(
      'cdp',
      [
        ...['--target', bench.stack.url, '--api-key', apiKeyOf(bench)],
        ...['--session-id', session.id, '--direct-url', session.direct.url],
        ...['--round-trips', '200', '--screenshots', '20', '--driver-label', 'local'],
      ],
      'Stack: `ventus up` in-process on a scratch database, local driver (headless Chromium); the direct socket is the pod agent’s, the proxy’s route in Redis.',
      cdpMarkdown,
      (files) => files.percentilesSvg!,
      { [AGENT_SECRET_ENV]: session.direct.headers![AGENT_SECRET_HEADER]! },
    );
  } finally {
    await bench.close();
  }
}

/** `pool-sweep` on the sim driver (300 ms pod starts, so warm and cold claims differ). */
async function benchPoolSweep(): Promise<string> {
  const bench = await startScratchStack(
    {
      VENTUS_DRIVER: 'sim',
      VENTUS_SIM_READY_MS: '300',
      VENTUS_POOL_MIN_READY: '1',
      VENTUS_POOL_MAX_TOTAL: '3',
      VENTUS_RECONCILE_INTERVAL_MS: '200',
    },
    ['operator'],
  );
  try {
    return await measurement<PoolSweepReport>(
      'pool-sweep',
      [
        ...['--target', bench.stack.url, '--api-key', apiKeyOf(bench)],
        ...['--settings', '3:1,5:2,7:3', '--rate', '2', '--session-seconds', '2'],
        ...['--duration', String(DURATION), '--concurrency', '256', '--driver-label', 'sim'],
      ],
      'Stack: `ventus up` in-process on a scratch database, sim driver with VENTUS_SIM_READY_MS=300.',
      poolSweepMarkdown,
    );
  } finally {
    await bench.close();
  }
}

/**
 * `timers` on the sim driver: 2,000 expiries spread over 400 s (about 200 due in the 40 s window),
 * creates at 20/s before and while they are pending. The pool has room for them and the creates.
 */
async function benchTimers(): Promise<string> {
  const bench = await startScratchStack(
    { VENTUS_DRIVER: 'sim', VENTUS_POOL_MIN_READY: '10', VENTUS_POOL_MAX_TOTAL: '2500' },
    ['operator'],
  );
  try {
    return await measurement<TimersReport>(
      'timers',
      [
        ...['--target', bench.stack.url, '--api-key', apiKeyOf(bench)],
        ...['--pending', '2000', '--rate', '20', '--duration', String(DURATION)],
        ...['--window', '40s', '--horizon', '400s', '--driver-label', 'sim'],
      ],
      'Stack: `ventus up` in-process on a scratch database, sim driver, pool min_ready 10 / max_total 2,500.',
      timersMarkdown,
    );
  } finally {
    await bench.close();
  }
}

/**
 * `concurrent` on the sim driver: 1,000 sessions held, GET at 200/s, against the four-process stack
 * so that /metrics (and its RSS) is the broker's own.
 */
async function benchConcurrent(): Promise<string> {
  const { startSplitStack } = await import('./split-stack.ts');
  const split = await startSplitStack({ minReady: 10, maxTotal: 1100 }, { VENTUS_DRIVER: 'sim' });
  try {
    return await measurement<ConcurrentReport>(
      'concurrent',
      [
        ...['--target', split.brokerUrl, '--api-key', split.apiKey],
        ...['--sessions', '1000', '--rate', '200', '--duration', String(DURATION), '--driver-label', 'sim'],
      ],
      'Stack: broker, proxy, workers and pool controller as four processes (as deployed) on a scratch ' +
        'database, sim driver, pool min_ready 10 / max_total 1,100. /metrics and its RSS are the broker process’s.',
      concurrentMarkdown,
    );
  } finally {
    await split.close();
  }
}

const services = await ensureServices();
// Imported after the variables are set: it reads them when loaded.
const { startScratchStack } = await import('./scratch-stack.ts');
type ScratchStack = Awaited<ReturnType<typeof startScratchStack>>;
const sections: string[] = [];
try {
  for (const plan of PLANS.filter((p) => !ONLY || ONLY.includes(p.scenario))) {
    const bench = await startScratchStack(plan.env);
    try {
      const { files } = await ventusLoad([
        ...['--target', bench.stack.url, '--scenario', plan.scenario],
        ...['--rate', String(plan.rate), '--duration', String(DURATION)],
        ...['--concurrency', String(plan.concurrency), '--out', RESULTS, '--name', `latest-${plan.scenario}`],
        ...['--api-key', bench.headers.authorization!.replace(/^Bearer /, '')],
        ...['--driver-label', plan.env.VENTUS_DRIVER!],
      ]);
      const report = JSON.parse(await readFile(files.json, 'utf8')) as Report;
      report.notes.unshift(`Stack: \`ventus up\` in-process on a scratch database, ${plan.why}.`);
      const plots = {
        latency: path.basename(files.latencySvg),
        percentiles: path.basename(files.percentilesSvg),
      };
      sections.push(markdownSummary(report, plots));
      process.stderr.write(`bench: ${plan.scenario} done (${report.summary.scheduled} arrivals)\n`);
    } finally {
      await bench.close();
    }
  }
  if (!ONLY || ONLY.includes('cdp')) sections.push(await benchCdp());
  if (!ONLY || ONLY.includes('pool-sweep')) sections.push(await benchPoolSweep());
  if (!ONLY || ONLY.includes('timers')) sections.push(await benchTimers());
  if (!ONLY || ONLY.includes('concurrent')) sections.push(await benchConcurrent());
  const header = [
    '# Latest benchmark (`npm run bench`)',
    '',
    `Short runs (${DURATION} s each) of every scenario on the local stack, written by \`load-tests/bench.ts\`. ` +
      'Figures depend on the machine; compare runs from the same machine only. JSON (every sample) ' +
      'and plots sit next to this file.',
    '',
    `- machine: ${describeMachine(machine())}`,
    `- date: ${new Date().toISOString()}`,
    '',
  ];
  const file = path.join(RESULTS, 'latest.md');
  await writeFile(file, await formatMarkdown([...header, ...sections].join('\n')));
  process.stderr.write(`bench: wrote ${path.relative(process.cwd(), file)}\n`);
} finally {
  for (const s of services.reverse()) await s.stop();
}
process.exit(0);
