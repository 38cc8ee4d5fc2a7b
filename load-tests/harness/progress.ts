/**
 * The live progress line on stderr: done, in flight, errors and the p50/p99 of the requests that
 * completed in the last few seconds. Redrawn in place on a terminal, one line per 2 s otherwise.
 */
import { formatMs, percentiles } from '../stats.ts';
import type { OpenLoop, Sample } from './scheduler.ts';

const WINDOW_MS = 3000;

export class Progress {
  private readonly recent: Array<{ at: number; latency: number }> = [];
  private errors = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tty: boolean;
  private readonly started = performance.now();

  constructor(
    private readonly label: string,
    private readonly durationSeconds: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = stream.isTTY === true;
  }

  /** Feed every completed sample here (the scheduler's `onSample`). */
  record = (sample: Sample): void => {
    if (sample.error) this.errors++;
    if (sample.latencyMs !== null) this.recent.push({ at: performance.now(), latency: sample.latencyMs });
  };

  start(loop: OpenLoop): void {
    this.timer = setInterval(() => this.draw(loop), this.tty ? 250 : 2000);
    this.timer.unref();
  }

  stop(loop: OpenLoop): void {
    clearInterval(this.timer);
    this.draw(loop);
    if (this.tty) this.stream.write('\n');
  }

  private draw(loop: OpenLoop): void {
    const now = performance.now();
    while (this.recent.length > 0 && this.recent[0]!.at < now - WINDOW_MS) this.recent.shift();
    const p = percentiles(this.recent.map((r) => r.latency));
    const latency =
      this.recent.length > 0 ? `p50 ${formatMs(p.p50)}  p99 ${formatMs(p.p99)} (last 3 s)` : 'p50 –  p99 –';
    const elapsed = Math.min((now - this.started) / 1000, this.durationSeconds);
    const line =
      `[${this.label}] ${elapsed.toFixed(1)}/${this.durationSeconds} s  done ${loop.done}/${loop.total}` +
      `  in flight ${loop.inFlight}  errors ${this.errors}  ${latency}`;
    this.stream.write(this.tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }
}
