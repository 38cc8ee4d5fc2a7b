/** The soak report as Markdown (the JSON is the SoakReport itself). */
import { FD_SLACK, FLAT_FACTOR, RSS_SLACK_KB } from './sampler.ts';
import type { SoakReport } from './run-soak.ts';

const table = (head: string[], rows: (string | number)[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

export function soakMarkdown(r: SoakReport): string {
  const minutes = (r.durationMs / 60_000).toFixed(1);
  const faultCounts = new Map<string, number>();
  for (const f of r.faults) faultCounts.set(f.kind, (faultCounts.get(f.kind) ?? 0) + 1);
  const sessions = Object.values(r.outcomes).reduce((a, b) => a + b, 0);
  return [
    `# Soak ${r.startedAt}`,
    '',
    `${minutes} min on the sim driver, ${r.options.rate} lifecycles/s, max_total ${r.options.maxTotal}, ` +
      `${r.options.faultEveryMs > 0 ? `a fault every ~${r.options.faultEveryMs / 1000} s` : 'no faults'} (seed ${r.options.seed}). ` +
      `Verdict: memory and fds **${r.verdict.flat ? 'flat' : 'NOT flat'}**, invariants **${r.verdict.invariants ? 'hold' : 'BROKEN'}**.`,
    '',
    '## Lifecycle outcomes',
    '',
    table(
      ['outcome', 'sessions'],
      [
        ...Object.entries(r.outcomes),
        ['**total**', sessions],
        ['not terminal after drain', r.unsettledAfterDrain],
      ],
    ),
    '',
    `Lifecycles started by kind: ${Object.entries(r.lifecycles)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}. 503 answers: ${r.http503}.`,
    '',
    '## Faults',
    '',
    table(['fault', 'count'], [...faultCounts].sort()),
    '',
    '## Memory and file descriptors (first vs last quarter, medians; first 10% is warm-up)',
    '',
    table(
      ['process', 'samples', 'restarts', 'RSS first MB', 'RSS last MB', 'fds first', 'fds last', 'flat'],
      r.trends.map((t) => [
        t.process,
        t.samples,
        t.restarts,
        t.rssFirstMb,
        t.rssLastMb,
        t.fdsFirst,
        t.fdsLast,
        t.flat ? 'yes' : 'NO',
      ]),
    ),
    '',
    `Flat: last ≤ first × ${FLAT_FACTOR} + ${RSS_SLACK_KB / 1024} MB (RSS), + ${FD_SLACK} (fds).`,
    '',
    '## Client answers',
    '',
    table(['call and answer', 'count'], Object.entries(r.client).sort()),
    '',
    '## Violations',
    '',
    r.violations.length === 0
      ? 'None.'
      : r.violations
          .slice(0, 50)
          .map((v) => `- ${v}`)
          .join('\n'),
    '',
  ].join('\n');
}
