/**
 * Samples resident memory (VmRSS) and open file descriptors of every process of the stack, and says
 * whether each stayed flat: the median of the last quarter of the run against the first quarter's.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { percentiles } from '../stats.ts';

export interface Sample {
  /** ms since the sampler started */
  t: number;
  pid: number;
  rssKb: number;
  fds: number;
}

export interface Trend {
  process: string;
  samples: number;
  restarts: number;
  rssFirstMb: number;
  rssLastMb: number;
  fdsFirst: number;
  fdsLast: number;
  flat: boolean;
}

/**
 * Flat: last-quarter median <= first-quarter median x 1.5 + a constant (32 MB of RSS, 64 fds).
 * The factor absorbs V8's lazy heap growth and GC sawtooth; the RSS constant, a young heap that
 * doubles cheaply; the fd constant, the broker's and proxy's client connections, which follow how
 * many lifecycles are in flight (up to 60 in the CI soak, one keep-alive socket each) plus a few
 * BullMQ reconnect sockets. A socket, file or timer leaked per session grows without bound: 240+
 * sessions in the 2-minute run, thousands in the 30-minute one, cross both bounds.
 */
export const FLAT_FACTOR = 1.5;
export const RSS_SLACK_KB = 32 * 1024;
export const FD_SLACK = 64;
/** Samples in the first part of the run are start-up (module loading, JIT, pools filling), not trend. */
export const WARMUP_FRACTION = 0.1;

function read(pid: number): { rssKb: number; fds: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)/.exec(status);
    return { rssKb: rss ? Number(rss[1]) : 0, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined; // exited between listing and reading
  }
}

const median = (xs: number[]) => (xs.length === 0 ? 0 : percentiles(xs).p50);

export class Sampler {
  readonly series = new Map<string, Sample[]>();
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: () => Promise<Record<string, number | undefined>>) {}

  start(everyMs: number): void {
    const tick = () => void this.sample().catch(() => undefined);
    tick();
    this.timer = setInterval(tick, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async sample(): Promise<void> {
    const t = Date.now() - this.started;
    for (const [name, pid] of Object.entries(await this.pids())) {
      if (pid === undefined) continue;
      const got = read(pid);
      if (!got) continue;
      const list = this.series.get(name) ?? [];
      list.push({ t, pid, ...got });
      this.series.set(name, list);
    }
  }

  trends(): Trend[] {
    const end = Date.now() - this.started;
    const from = end * WARMUP_FRACTION;
    const span = end - from;
    return [...this.series].map(([process, all]) => {
      const samples = all.filter((s) => s.t >= from);
      const first = samples.filter((s) => s.t < from + span / 4);
      const last = samples.filter((s) => s.t >= end - span / 4);
      const [rssFirst, rssLast] = [median(first.map((s) => s.rssKb)), median(last.map((s) => s.rssKb))];
      const [fdsFirst, fdsLast] = [median(first.map((s) => s.fds)), median(last.map((s) => s.fds))];
      return {
        process,
        samples: all.length,
        restarts: new Set(all.map((s) => s.pid)).size - 1,
        rssFirstMb: Math.round(rssFirst / 102.4) / 10,
        rssLastMb: Math.round(rssLast / 102.4) / 10,
        fdsFirst,
        fdsLast,
        flat:
          rssLast <= rssFirst * FLAT_FACTOR + RSS_SLACK_KB && fdsLast <= fdsFirst * FLAT_FACTOR + FD_SLACK,
      };
    });
  }
}
