/** Retry timing: jittered exponential backoff, Retry-After, deadlines, and sleeps that abort. */

export interface RetryOptions {
  /** First backoff step in ms (doubles per attempt). Default 250. */
  baseDelayMs?: number;
  /**
   * The longest wait between two attempts, in ms, Retry-After included. Default 5000. The service's
   * `Retry-After` on a 503 is the earliest *natural* expiry of a session in the pool; releases free a
   * slot sooner, and a client that slept the whole hint would miss them.
   */
  maxDelayMs?: number;
  /** Per-attempt timeout in ms: a hung request is abandoned and retried. Default 30000. */
  attemptTimeoutMs?: number;
}

export const RETRY_DEFAULTS: Required<RetryOptions> = {
  baseDelayMs: 250,
  maxDelayMs: 5000,
  attemptTimeoutMs: 30_000,
};

/**
 * The wait before retry number `attempt` (0-based): equal-jitter exponential backoff, or the server's
 * Retry-After plus up to 10 % (never sooner than it asked, so a crowd of clients does not return in
 * lockstep), whichever is longer; capped at `maxDelayMs`.
 */
export function retryDelayMs(
  attempt: number,
  retryAfterSeconds: number | undefined,
  options: Required<RetryOptions>,
  random: () => number = Math.random,
): number {
  const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
  const backoff = step / 2 + (random() * step) / 2;
  const hinted = retryAfterSeconds === undefined ? 0 : retryAfterSeconds * 1000 * (1 + random() * 0.1);
  return Math.min(options.maxDelayMs, Math.max(backoff, hinted));
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
