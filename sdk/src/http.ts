/**
 * The transport: one JSON request with authentication, problem documents turned into typed errors,
 * and retries (jittered backoff, Retry-After, a deadline, a per-attempt timeout).
 */
import { VentusProblemError, VentusTimeoutError } from './errors.js';
import { parseRetryAfter, retryDelayMs, RETRY_DEFAULTS, sleep, type RetryOptions } from './retry.js';
import type { ProblemDocument } from './types.js';

/** The request never got a response (connection refused or reset, DNS, TLS); `cause` says why. */
export class VentusConnectionError extends Error {
  override readonly name = 'VentusConnectionError';
}

/**
 * `idempotent`: sending the request twice is harmless, so connection errors, attempt timeouts and
 * 500/502/504 are retried as well. `rejected-only`: only 429 and 503, which the service answers without
 * acting (a keep-alive sent twice would extend twice).
 */
export type RetryPolicy = 'idempotent' | 'rejected-only';

export type QueryValue = string | number | boolean | readonly string[] | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  headers?: Record<string, string>;
  retry?: RetryPolicy;
  /** Epoch ms after which no further attempt starts. Default: now + the client's `timeoutMs`. */
  deadline?: number;
  signal?: AbortSignal | undefined;
}

export interface HttpResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TransportOptions {
  baseUrl: string;
  apiKey: string | undefined;
  fetch: typeof fetch;
  retry: RetryOptions;
  timeoutMs: number;
}

const RETRY_ALWAYS = new Set([429, 503]);
const RETRY_IDEMPOTENT = new Set([500, 502, 504]);

export class HttpTransport {
  private readonly retry: Required<RetryOptions>;

  constructor(private readonly options: TransportOptions) {
    this.retry = { ...RETRY_DEFAULTS, ...options.retry };
  }

  /**
   * Sends the request until it succeeds, fails in a way a retry cannot fix, or the deadline leaves no
   * room for another attempt; then the last error is thrown as it was (a VentusProblemError keeps its
   * problem document, so a caller still sees `insufficient-capacity` rather than a bare timeout).
   */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const deadline = options.deadline ?? Date.now() + this.options.timeoutMs;
    const policy = options.retry ?? 'idempotent';
    for (let attempt = 0; ; attempt++) {
      let delay: number;
      try {
        return await this.once<T>(method, path, options, deadline);
      } catch (err) {
        if (options.signal?.aborted || !retryable(err, policy)) throw err;
        delay = retryDelayMs(
          attempt,
          err instanceof VentusProblemError ? err.retryAfter : undefined,
          this.retry,
        );
        if (Date.now() + delay >= deadline) throw err;
      }
      await sleep(delay, options.signal);
    }
  }

  private async once<T>(
    method: string,
    path: string,
    options: RequestOptions,
    deadline: number,
  ): Promise<HttpResponse<T>> {
    const timeoutMs = Math.max(1, Math.min(this.retry.attemptTimeoutMs, deadline - Date.now()));
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await this.options.fetch(this.url(path, options.query), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal,
      });
      text = await res.text();
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted) {
        throw new VentusTimeoutError(`${method} ${path}: no response within ${timeoutMs} ms`, { cause: err });
      }
      const code = ((err as Error).cause as { code?: string } | undefined)?.code;
      throw new VentusConnectionError(
        `${method} ${path}: ${(err as Error).message}${code ? ` (${code})` : ''}`,
        {
          cause: err,
        },
      );
    }
    if (!res.ok) throw problemError(res, text, method, path);
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
  }

  private url(path: string, query: Record<string, QueryValue> = {}): string {
    const url = new URL(path, this.options.baseUrl);
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(v));
    }
    return url.toString();
  }
}

function retryable(err: unknown, policy: RetryPolicy): boolean {
  if (err instanceof VentusProblemError) {
    return RETRY_ALWAYS.has(err.status) || (policy === 'idempotent' && RETRY_IDEMPOTENT.has(err.status));
  }
  return (
    policy === 'idempotent' && (err instanceof VentusConnectionError || err instanceof VentusTimeoutError)
  );
}

function problemError(res: Response, text: string, method: string, path: string): VentusProblemError {
  let problem: ProblemDocument = {
    type: 'about:blank',
    title: res.statusText || `HTTP ${res.status}`,
    status: res.status,
  };
  try {
    const parsed = JSON.parse(text) as Partial<ProblemDocument>;
    if (typeof parsed.type === 'string' && typeof parsed.title === 'string')
      problem = parsed as ProblemDocument;
  } catch {
    // Not JSON (a proxy's HTML error page): the synthesized document above stands.
  }
  return new VentusProblemError(problem, res.status, {
    retryAfter: parseRetryAfter(res.headers.get('retry-after')),
    requestId: res.headers.get('x-request-id') ?? undefined,
    method,
    path,
  });
}
