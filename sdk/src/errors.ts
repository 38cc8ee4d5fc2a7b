/** Errors the SDK throws: a problem answered by the service, a deadline passed, a session that ended. */
import type { ProblemDocument, SessionResource } from './types.js';

/** An error response of the API, with its RFC 7807 problem document. */
export class VentusProblemError extends Error {
  override readonly name = 'VentusProblemError';
  /** The last segment of `problem.type`, e.g. `insufficient-capacity` (`about:blank` when untyped). */
  readonly code: string;
  /** Seconds from the `Retry-After` header (429 and 503), when the response had one. */
  readonly retryAfter: number | undefined;
  /** The response's `X-Request-Id`: quote it in support requests. */
  readonly requestId: string | undefined;

  constructor(
    readonly problem: ProblemDocument,
    readonly status: number,
    options: { retryAfter?: number; requestId?: string; method: string; path: string },
  ) {
    super(
      `${options.method} ${options.path}: ${status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}`,
    );
    this.code = problem.type.split('/').pop() ?? problem.type;
    this.retryAfter = options.retryAfter;
    this.requestId = options.requestId;
  }
}

/** The call's deadline (`timeoutMs`) passed; `cause` holds the last error seen, if any. */
export class VentusTimeoutError extends Error {
  override readonly name = 'VentusTimeoutError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A session ended (COMPLETED, EXPIRED or ERRORED) while the SDK waited for it to be RUNNING. */
export class SessionEndedError extends Error {
  override readonly name = 'SessionEndedError';
  constructor(readonly session: SessionResource) {
    super(
      `Session ${session.id} ended as ${session.status} (${session.release_reason ?? 'no reason'})` +
        (session.error ? `: ${session.error}` : ''),
    );
  }
}

/** True when `err` is a problem answered by the API, optionally of the given `code`. */
export function isProblem(err: unknown, code?: string): err is VentusProblemError {
  return err instanceof VentusProblemError && (code === undefined || err.code === code);
}
