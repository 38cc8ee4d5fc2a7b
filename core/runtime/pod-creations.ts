/** Pod starts in flight, so a driver's close() can abort every one and wait for each to clean up. */
import type { Pod } from './driver.ts';

export class PodCreations {
  private readonly creating = new Set<{ controller: AbortController; creation: Promise<Pod> }>();

  /** Runs `create` with a signal that fires on the caller's `signal` or on `abortAll`. */
  async run(signal: AbortSignal | undefined, create: (signal: AbortSignal) => Promise<Pod>): Promise<Pod> {
    const controller = new AbortController();
    const creation = create(signal ? AbortSignal.any([signal, controller.signal]) : controller.signal);
    const entry = { controller, creation };
    this.creating.add(entry);
    try {
      return await creation;
    } finally {
      this.creating.delete(entry);
    }
  }

  async abortAll(reason: Error): Promise<void> {
    for (const { controller } of this.creating) controller.abort(reason);
    await Promise.allSettled([...this.creating].map((c) => c.creation));
  }
}
