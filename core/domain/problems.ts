/**
 * The one registry of problem types (RFC 7807). Code throws `new ProblemError(type, {detail})`;
 * one error handler renders `application/problem+json`. Every type is documented in docs/problems.md
 * (a test fails otherwise).
 */

export const PROBLEMS = {
  'validation-error': { status: 400, title: 'Validation error' },
  'idempotency-key-required': { status: 400, title: 'Idempotency-Key header required' },
  'reason-required': { status: 400, title: 'X-Reason header required' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  'link-expired': { status: 401, title: 'Link expired' },
  forbidden: { status: 403, title: 'Insufficient scope' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'state-conflict': { status: 409, title: 'State conflict' },
  'live-view-unavailable': { status: 409, title: 'Live view unavailable' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'unprocessable-entity': { status: 422, title: 'Unprocessable entity' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'internal-error': { status: 500, title: 'Internal error' },
  'insufficient-capacity': { status: 503, title: 'Insufficient capacity' },
  'service-unavailable': { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemType = keyof typeof PROBLEMS;

export const PROBLEM_BASE_URL = 'https://api.sessions.ventus.ai/errors/';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export class ProblemError extends Error {
  readonly type: ProblemType;
  readonly status: number;
  readonly detail: string | undefined;
  /** Seconds, sent as Retry-After (429 and 503). */
  readonly retryAfter: number | undefined;
  readonly extensions: Record<string, unknown>;

  constructor(
    type: ProblemType,
    options: { detail?: string; retryAfter?: number; extensions?: Record<string, unknown> } = {},
  ) {
    super(options.detail ?? PROBLEMS[type].title);
    this.name = 'ProblemError';
    this.type = type;
    this.status = PROBLEMS[type].status;
    this.detail = options.detail;
    this.retryAfter = options.retryAfter;
    this.extensions = options.extensions ?? {};
  }

  toDocument(instance?: string): ProblemDocument {
    return problemDocument(this.type, { detail: this.detail, instance, ...this.extensions });
  }
}

export function problemDocument(
  type: ProblemType,
  fields: { detail?: string | undefined; instance?: string | undefined; [k: string]: unknown } = {},
): ProblemDocument {
  const doc: ProblemDocument = {
    type: PROBLEM_BASE_URL + type,
    title: PROBLEMS[type].title,
    status: PROBLEMS[type].status,
  };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) doc[key] = value;
  return doc;
}
