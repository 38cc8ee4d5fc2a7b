/** The sustained curve of `npm run bench:throughput`, as two SVG plots against the arrival rate. */
import type { CpuShares } from './harness/cpu-by-process.ts';
import path from 'node:path';
import { chart } from './harness/svg.ts';
import type { LatencyStats } from './harness/report.ts';

/** One arrival rate of the sustained sweep. */
export interface RatePoint {
  rate: number;
  arrivals: number;
  refused: number;
  errors: number;
  warmShare: number | null;
  toRunning: LatencyStats;
  lifecycle: LatencyStats;
  create: LatencyStats;
  /**
   * Mean time to RUNNING as the service measured it (created_at → RUNNING), and two of its parts:
   * the provision job's wait in the queue and the claim on the pod (the agent taking the session).
   */
  toRunningParts: { total: number | null; queueWait: number | null; claim: number | null };
  cpuSecondsPerSession: number;
  /** The run's CPU by who used it, per completed session. */
  cpuPerSession: CpuShares;
  /** The same with the pool full and no arrivals, per second: what standing ready costs. */
  idleCpuPerSecond: CpuShares;
}

export function sustainedCharts(
  points: RatePoint[],
  dir: string,
  base: string,
): Array<{ path: string; title: string; svg: string }> {
  const line = (label: string, color: string, pick: (p: RatePoint) => number | null) => ({
    label,
    color,
    kind: 'line' as const,
    points: points.flatMap((p): Array<[number, number]> => {
      const v = pick(p);
      return v === null ? [] : [[p.rate, v]];
    }),
  });
  const latency = 'Sustained sessions: latency against the arrival rate';
  const shares = 'Sustained sessions: 503s and warm hits against the arrival rate';
  return [
    {
      path: path.join(dir, `${base}-latency.svg`),
      title: latency,
      svg: chart({
        title: latency,
        xLabel: 'arrivals per second',
        yLabel: 'ms',
        series: [
          line('time to RUNNING p50', '#2ca02c', (p) => p.toRunning.p50),
          line('time to RUNNING p99', '#ff7f0e', (p) => p.toRunning.p99),
          line('lifecycle p50', '#1f77b4', (p) => p.lifecycle.p50),
        ],
      }),
    },
    {
      path: path.join(dir, `${base}-shares.svg`),
      title: shares,
      svg: chart({
        title: shares,
        xLabel: 'arrivals per second',
        yLabel: '% of arrivals',
        series: [
          line('503 (pool full)', '#d62728', (p) => p.refused * 100),
          line('warm hits (of claims)', '#2ca02c', (p) => (p.warmShare === null ? null : p.warmShare * 100)),
        ],
      }),
    },
  ];
}
