/**
 * The soak test: mixed session traffic with periodic faults on the sim driver against the four
 * processes of the service; writes load-tests/results/soak-<time>.md and .json. Uses the machine's
 * Postgres and Redis (a scratch database and key prefix, removed at the end) or TEST_DATABASE_URL /
 * TEST_REDIS_URL. Exits 1 when an invariant broke or memory/fds were not flat.
 *
 *   node --import tsx load-tests/soak.ts --duration 30m --rate 3 --faults 30s --seed 42 --driver sim
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runSoak } from './soak/run-soak.ts';
import { soakMarkdown } from './soak/report.ts';
import { formatMarkdown } from './harness/write-report.ts';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

/** `90`, `90s`, `5m`, `1h` → ms; `off`/`0` → 0. */
function duration(text: string, flag: string): number {
  if (text === 'off') return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (!m) throw new Error(`--${flag}: expected e.g. 90s, 5m, 1h (got ${text})`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!;
  return Math.round(Number(m[1]) * unit);
}

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '30m' },
    rate: { type: 'string', default: '3' },
    faults: { type: 'string', default: '30s' },
    seed: { type: 'string' },
    driver: { type: 'string', default: 'sim' },
    'max-total': { type: 'string', default: '200' },
    'sample-every': { type: 'string', default: '5s' },
    out: { type: 'string', default: RESULTS },
  },
});
if (values.driver !== 'sim') {
  process.stderr.write(
    'soak: only --driver sim is supported (thousands of lifecycles; real Chromium cannot)\n',
  );
  process.exit(2);
}
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const options = {
  durationMs: duration(values.duration, 'duration'),
  rate: Number(values.rate),
  faultEveryMs: duration(values.faults, 'faults'),
  seed,
  maxTotal: Number(values['max-total']),
  sampleEveryMs: duration(values['sample-every'], 'sample-every'),
};
process.stderr.write(`soak: ${JSON.stringify(options)} (replay with --seed ${seed})\n`);
const report = await runSoak({
  ...options,
  ...(process.env.TEST_DATABASE_URL && { adminUrl: process.env.TEST_DATABASE_URL }),
  ...(process.env.TEST_REDIS_URL && { redisUrl: process.env.TEST_REDIS_URL }),
});
const stamp = report.startedAt.replace(/[:.]/g, '-');
await mkdir(values.out, { recursive: true });
const base = `${values.out.replace(/\/$/, '')}/soak-${stamp}`;
await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
await writeFile(`${base}.md`, await formatMarkdown(soakMarkdown(report)));
process.stdout.write(`${soakMarkdown(report)}\nwritten: ${base}.md, ${base}.json\n`);
process.exit(report.verdict.flat && report.verdict.invariants ? 0 : 1);
