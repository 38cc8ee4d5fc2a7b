/**
 * Paces a CDP screencast without losing its last state. Chromium drops compositor frames while too
 * many screencast frames are unacknowledged and does not send them again after the ack, so a late ack
 * (the old way of sampling a busy page) could leave a page's final paint out for good: a static page
 * painted during the wait was never seen. Every frame is therefore acknowledged at once, and the
 * pacer hands on at most `fps` frames a second: the newest one, so the last frame always arrives.
 */
export class FramePacer<T> {
  private pending: { frame: T; atMs: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastDeliveredAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly fps: number,
    private readonly deliver: (frame: T, atMs: number) => void,
  ) {}

  /** Takes a frame that arrived at `atMs`; it replaces any frame still waiting for its turn. */
  push(frame: T, atMs = performance.now()): void {
    this.pending = { frame, atMs };
    const wait = this.lastDeliveredAt + 1000 / this.fps - atMs;
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait).unref();
  }

  /** Hands on the waiting frame now, if there is one. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    this.lastDeliveredAt = performance.now();
    this.deliver(pending.frame, pending.atMs);
  }

  /** Drops the waiting frame (the screencast moved to another page, or it ended). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }
}
