/**
 * Open-loop arrivals: request i starts at t0 + i / rate whatever happened to the requests before
 * it, and its latency is measured from that scheduled start. A closed-loop client (send, wait,
 * send) slows down with the server and so never records the requests a stall kept from being sent:
 * coordinated omission. Here a stall shows up as every request scheduled during it being late.
 * In-flight requests are bounded by `concurrency`; an arrival that finds no free slot is not sent
 * and counts as an error (`dropped`), so the bound cannot hide latency either.
 */

/** What a task tells about one request. `error` defaults to false. */
export interface TaskResult {
  outcome: string;
  error?: boolean;
  /** Why it failed, for the report's error table (no secrets: scenarios pass status lines). */
  detail?: string;
}

export interface TaskContext {
  index: number;
  /** `performance.now()` of the scheduled start. */
  scheduledAt: number;
  /** Ends a step: its duration runs from the previous mark (the scheduled start for the first). */
  mark: (step: string) => void;
}

export type Task = (ctx: TaskContext) => Promise<TaskResult>;

export interface Sample {
  index: number;
  /** Scheduled start, ms after t0. */
  scheduledMs: number;
  /** Scheduled start -> completion; null for a dropped arrival. */
  latencyMs: number | null;
  outcome: string;
  error: boolean;
  detail?: string;
  steps?: Record<string, number>;
}

export interface OpenLoopOptions {
  /** Arrivals per second. */
  rate: number;
  durationMs: number;
  concurrency: number;
  task: Task;
  onSample?: (sample: Sample) => void;
  /**
   * `uniform` (default): request i at t0 + i / rate. `poisson`: exponential gaps of mean 1 / rate
   * (what queueing formulas such as Erlang-B assume), drawn from `seed` so a run can be repeated.
   */
  arrivals?: 'uniform' | 'poisson';
  seed?: number;
}

export interface OpenLoopResult {
  /** `performance.now()` of t0. */
  t0: number;
  /** Wall-clock time of t0. */
  startedAt: Date;
  /** t0 -> the last completion. */
  elapsedMs: number;
  samples: Sample[];
}

export const DROPPED = 'dropped';

export class OpenLoop {
  private inFlightCount = 0;
  private scheduledCount = 0;
  private readonly samples: Sample[] = [];
  readonly total: number;
  /** Scheduled starts (ms after t0) for Poisson arrivals; uniform ones are i / rate. */
  private readonly offsets: number[] | undefined;

  constructor(private readonly options: OpenLoopOptions) {
    if (!(options.rate > 0) || !(options.durationMs > 0) || !(options.concurrency >= 1)) {
      throw new RangeError('rate, duration and concurrency must be positive');
    }
    if (options.arrivals === 'poisson') {
      this.offsets = poissonOffsets(options.rate, options.durationMs, options.seed ?? 1);
      this.total = this.offsets.length;
    } else {
      this.total = Math.ceil((options.rate * options.durationMs) / 1000 - 1e-9);
    }
  }

  private offset(index: number): number {
    return this.offsets ? this.offsets[index]! : (index * 1000) / this.options.rate;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  get scheduled(): number {
    return this.scheduledCount;
  }

  get done(): number {
    return this.samples.length;
  }

  async run(): Promise<OpenLoopResult> {
    const t0 = performance.now();
    const startedAt = new Date();
    const running = new Set<Promise<void>>();
    await new Promise<void>((resolve) => {
      const tick = () => {
        // A late timer (busy event loop) starts every arrival already due, each still timed from
        // its own scheduled start.
        const elapsed = performance.now() - t0;
        while (this.scheduledCount < this.total && this.offset(this.scheduledCount) <= elapsed) {
          const index = this.scheduledCount++;
          const p = this.launch(index, t0 + this.offset(index), t0);
          if (p) {
            running.add(p);
            void p.finally(() => running.delete(p));
          }
        }
        if (this.scheduledCount >= this.total) return resolve();
        const wait = this.offset(this.scheduledCount) - (performance.now() - t0);
        setTimeout(tick, Math.max(0, wait));
      };
      tick();
    });
    while (running.size > 0) await Promise.all([...running]);
    return {
      t0,
      startedAt,
      elapsedMs: performance.now() - t0,
      samples: [...this.samples].sort((a, b) => a.index - b.index),
    };
  }

  private record(sample: Sample): void {
    this.samples.push(sample);
    this.options.onSample?.(sample);
  }

  private launch(index: number, scheduledAt: number, t0: number): Promise<void> | undefined {
    const scheduledMs = scheduledAt - t0;
    if (this.inFlightCount >= this.options.concurrency) {
      this.record({
        index,
        scheduledMs,
        latencyMs: null,
        outcome: DROPPED,
        error: true,
        detail: `no free slot (concurrency ${this.options.concurrency})`,
      });
      return undefined;
    }
    this.inFlightCount++;
    const steps: Record<string, number> = {};
    let last = scheduledAt;
    const ctx: TaskContext = {
      index,
      scheduledAt,
      mark: (step) => {
        const now = performance.now();
        steps[step] = now - last;
        last = now;
      },
    };
    return this.options
      .task(ctx)
      .catch((err: unknown): TaskResult => ({ outcome: 'exception', error: true, detail: describe(err) }))
      .then((result) => {
        this.inFlightCount--;
        this.record({
          index,
          scheduledMs,
          latencyMs: performance.now() - scheduledAt,
          outcome: result.outcome,
          error: result.error ?? false,
          ...(result.detail !== undefined && { detail: result.detail }),
          ...(Object.keys(steps).length > 0 && { steps }),
        });
      });
  }
}

/** Arrival times of a Poisson process of `rate` per second over `durationMs` (mulberry32 PRNG). */
export function poissonOffsets(rate: number, durationMs: number, seed: number): number[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const offsets: number[] = [];
  for (let t = 0; ;) {
    t += (-Math.log(1 - random()) * 1000) / rate;
    if (t >= durationMs) return offsets;
    offsets.push(t);
  }
}

function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // Playwright appends multi-line call logs; the first line says what failed.
  return message.split('\n')[0]!.slice(0, 200);
}
