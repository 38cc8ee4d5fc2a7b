/** A session handle: its latest state, keep-alive, release, and release on `await using` scope exit. */
import { isProblem, SessionEndedError, VentusTimeoutError } from './errors.js';
import type { SessionResource } from './types.js';

// Node before 20.4 has no Symbol.asyncDispose; `await using` (compiled or native) looks it up by this name.
(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol.for('nodejs.asyncDispose');

const ENDED = new Set<SessionResource['status']>(['COMPLETED', 'EXPIRED', 'ERRORED']);
/** The longest one waiting read may be held by the service (its `wait_seconds` maximum). */
const MAX_WAIT_SECONDS = 60;

/** How long one waiting request may ask the service to hold its answer, to end by `deadline`. */
export function waitSecondsBefore(deadline: number): number {
  return Math.min(MAX_WAIT_SECONDS, Math.max(1, Math.floor((deadline - Date.now()) / 1000)));
}

/** What a Session needs from the client (kept narrow so the two files do not import each other). */
export interface SessionApi {
  /** With `waitSeconds`, the service answers once the session is RUNNING or ended, or after that long. */
  getSession(id: string, options?: CallOptions & { waitSeconds?: number }): Promise<SessionResource>;
  keepAlive(id: string, seconds: number, options?: CallOptions): Promise<SessionResource>;
  release(id: string, options?: CallOptions): Promise<SessionResource>;
}

export interface CallOptions {
  /** Epoch ms after which no further attempt starts. */
  deadline?: number;
  signal?: AbortSignal | undefined;
}

export interface WaitOptions {
  /** How long to wait for RUNNING, in ms. Default 60000. Ignored when `deadline` is given. */
  timeoutMs?: number;
  deadline?: number;
  signal?: AbortSignal | undefined;
}

export class Session implements AsyncDisposable {
  constructor(
    private readonly api: SessionApi,
    private resource: SessionResource,
    /** The Idempotency-Key the session was created with (undefined for a handle on an existing session). */
    readonly idempotencyKey?: string,
  ) {}

  get id(): string {
    return this.resource.id;
  }

  get status(): SessionResource['status'] {
    return this.resource.status;
  }

  /** The session as last read from the API (create, refresh, keep-alive or release). */
  get data(): SessionResource {
    return this.resource;
  }

  /** The CDP WebSocket URL (with its token) for Playwright, Puppeteer or any CDP client. */
  get connectUrl(): string {
    if (!this.resource.connect_url) throw new Error(`Session ${this.id} (${this.status}) has no connect_url`);
    return this.resource.connect_url;
  }

  async refresh(options?: CallOptions): Promise<SessionResource> {
    this.resource = await this.api.getSession(this.id, options);
    return this.resource;
  }

  /**
   * Waits until the session is RUNNING: each read is held by the service until the session is RUNNING
   * or ended (no polling: it hears the transition the moment it happens). Throws SessionEndedError if
   * it ends first, VentusTimeoutError when the time is up.
   */
  async waitUntilRunning(options: WaitOptions = {}): Promise<this> {
    const deadline = options.deadline ?? Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      if (this.status === 'RUNNING') return this;
      if (ENDED.has(this.status)) throw new SessionEndedError(this.resource);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new VentusTimeoutError(
          `Session ${this.id} is still ${this.status}; it did not reach RUNNING in time`,
        );
      }
      const waitSeconds = waitSecondsBefore(deadline);
      this.resource = await this.api.getSession(this.id, { deadline, signal: options.signal, waitSeconds });
    }
  }

  /** Moves `expires_at` forward by `seconds` (default 600, at most 86400 per call). */
  async keepAlive(seconds = 600, options?: CallOptions): Promise<SessionResource> {
    this.resource = await this.api.keepAlive(this.id, seconds, options);
    return this.resource;
  }

  /**
   * Ends the session (COMPLETED, `client_release`) and resolves with its final state. Safe to call
   * twice; a session that already ended another way (EXPIRED, ERRORED) resolves with that state.
   */
  async release(options?: CallOptions): Promise<SessionResource> {
    try {
      this.resource = await this.api.release(this.id, options);
    } catch (err) {
      if (!isProblem(err, 'state-conflict')) throw err;
      await this.refresh(options);
    }
    return this.resource;
  }

  /** `await using session = await client.createSession(…)` releases the session on scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
