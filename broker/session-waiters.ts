/**
 * Clients waiting to hear that a session settled (RUNNING or ended): `GET /v1/sessions/{id}?wait_seconds=N`
 * is answered the moment it happens instead of being polled for. One Redis subscription per broker
 * process (opened on first use) fans the workers' announcements out to the waiting requests, on every
 * replica. A missed announcement (a Redis blip) costs at most the re-check interval, never an answer.
 */
import type { Redis } from 'ioredis';
import type { SessionRoutes } from '../core/redis/session-routes.ts';
import type { SessionStatus } from '../core/domain/session-states.ts';

/** A session on its way to RUNNING: what a waiting request waits out. */
const STARTING = new Set<SessionStatus>(['QUEUED', 'PROVISIONING']);

/** A waiting request re-reads the session at least this often, whatever Redis says. */
export const WAIT_RECHECK_MS = 2_000;

export class SessionWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();
  private subscribed: Promise<void> | undefined;
  private subscriber: Redis | undefined;

  constructor(
    private readonly routes: SessionRoutes,
    private readonly openSubscriber: () => Redis,
    private readonly recheckMs = WAIT_RECHECK_MS,
  ) {}

  /**
   * Resolves when the session is announced settled, after `ms`, after the re-check interval (time to look
   * again), or when `signal` aborts (the client went away), whichever comes first. Call it only once
   * the subscription is up (`ready()`), and re-read the session afterwards.
   */
  next(sessionId: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        const set = this.waiting.get(sessionId);
        set?.delete(wake);
        if (set?.size === 0) this.waiting.delete(sessionId);
        resolve();
      };
      const timer = setTimeout(wake, Math.min(ms, this.recheckMs));
      signal.addEventListener('abort', wake);
      const set = this.waiting.get(sessionId) ?? new Set();
      set.add(wake);
      this.waiting.set(sessionId, set);
    });
  }

  /**
   * Reads the session (`read`) until it is no longer QUEUED or PROVISIONING, `ms` have passed or
   * `gone` aborts (the client went away), and returns the last read. It listens before each read (the
   * first one included, so a session that is RUNNING already costs one read): an announcement between
   * a read and the wait is not lost.
   */
  async whileStarting<S extends { status: SessionStatus }>(
    sessionId: string,
    ms: number,
    read: () => Promise<S>,
    gone: AbortSignal,
  ): Promise<S> {
    await this.ready();
    const deadline = Date.now() + ms;
    const done = new AbortController(); // ends the last wait, if any, on return
    const stop = () => done.abort();
    gone.addEventListener('abort', stop, { once: true });
    try {
      for (;;) {
        const next = this.next(sessionId, deadline - Date.now(), done.signal);
        const session = await read();
        if (!STARTING.has(session.status) || Date.now() >= deadline || gone.aborted) return session;
        await next;
      }
    } finally {
      gone.removeEventListener('abort', stop);
      done.abort();
    }
  }

  /**
   * Subscribes on first use; later calls wait for the same subscription. Never fails and waits at most
   * the re-check interval: with Redis away, a waiting request still re-reads the session on that interval.
   */
  async ready(): Promise<void> {
    this.subscribed ??= this.routes
      .subscribeSettled((this.subscriber ??= this.openSubscriber()), (sessionId) => {
        for (const wake of this.waiting.get(sessionId) ?? []) wake();
      })
      .catch(() => {
        this.subscribed = undefined; // the next waiting request tries again
      });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.subscribed,
      new Promise((resolve) => (timer = setTimeout(resolve, this.recheckMs))),
    ]);
    clearTimeout(timer);
  }
}
