/**
 * Every request the Kubernetes driver makes goes through `ApiCalls.run`: at most `concurrency` in
 * flight (p-limit: a pool refill of 50 pods must not open 50 connections to the API server at once),
 * and retried with exponential backoff and jitter on what a retry can fix (5xx, 429, network errors).
 * 4xx answers are final and become `KubernetesApiError` with the API server's own message.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';

export interface RetryPolicy {
  /** Attempts in total (first try included); default 5. */
  attempts: number;
  /** First backoff (ms), doubled per attempt up to `maxDelayMs`; default 200. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 5_000 };

/** A Kubernetes API answer that retrying will not change (or that retries did not change). */
export class KubernetesApiError extends Error {
  override name = 'KubernetesApiError';
  constructor(
    message: string,
    /** HTTP status; 0 for a network error. */
    readonly status: number,
    /** The Status object's `reason` (NotFound, AlreadyExists, Invalid, …) when there was one. */
    readonly reason: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface StatusBody {
  message?: string;
  reason?: string;
}

/** HTTP status of a client-node error (ApiException carries `code`; Watch errors `statusCode`). */
export function statusOf(err: unknown): number {
  if (typeof err !== 'object' || err === null) return 0;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return 0;
}

function statusBody(err: unknown): StatusBody {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body.slice(0, 500) };
    }
  }
  return typeof body === 'object' && body !== null ? body : {};
}

export function isRetryable(err: unknown): boolean {
  const status = statusOf(err);
  return status === 0 || status === 429 || status >= 500;
}

/** Turns a client-node error into a KubernetesApiError naming what was attempted. */
export function toApiError(what: string, err: unknown): KubernetesApiError {
  if (err instanceof KubernetesApiError) return err;
  const status = statusOf(err);
  const body = statusBody(err);
  const detail =
    body.message ??
    (status === 0 && err instanceof Error ? err.message : `HTTP ${status}`) ??
    'unknown error';
  return new KubernetesApiError(`${what}: ${detail}`, status, body.reason, { cause: err });
}

export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  // Full jitter: replicas that failed together do not retry together.
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

export class ApiCalls {
  private readonly limit: LimitFunction;

  constructor(
    concurrency: number,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {
    this.limit = pLimit(concurrency);
  }

  /** Requests in flight and waiting for a slot (for tests and metrics). */
  get pending(): { active: number; queued: number } {
    return { active: this.limit.activeCount, queued: this.limit.pendingCount };
  }

  /**
   * Runs `call` under the concurrency limit, retrying what a retry can fix. `what` names the call in
   * the error ("create pod x"). A signal stops retrying (the last error is thrown).
   */
  async run<T>(what: string, call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        // The slot is held for one attempt only: a backoff never blocks other calls.
        return await this.limit(call);
      } catch (err) {
        if (!isRetryable(err) || attempt + 1 >= this.retry.attempts || signal?.aborted) {
          throw toApiError(what, err);
        }
        await sleep(backoffDelay(attempt, this.retry), undefined, signal ? { signal } : {}).catch(
          () => undefined,
        );
      }
    }
  }
}
