/**
 * The one registry of problem types (RFC 7807). Code throws `new ProblemError(type, {detail})`;
 * one error handler renders `application/problem+json`. Every type is documented in docs/problems.md
 * (a test fails otherwise).
 */

export const PROBLEMS = {
  'validation-error': {
    status: 400,
    title: 'Validation error',
    when: 'The body, path or query does not match the schema: an unknown field, a wrong type, a value out of range, malformed JSON or a cursor the service did not issue.',
    advice:
      'Fix the request as `detail` and `errors[]` say (each names the field) and send it again; /openapi.json has every schema.',
  },
  'idempotency-key-required': {
    status: 400,
    title: 'Idempotency-Key header required',
    when: 'POST /v1/sessions was sent without an Idempotency-Key header.',
    advice:
      'Send a fresh UUID as Idempotency-Key on each new session, and the same one when you retry that request.',
  },
  'reason-required': {
    status: 400,
    title: 'X-Reason header required',
    when: 'An operator action (force-stop) came without an X-Reason of at least 8 characters.',
    advice: 'Say why in X-Reason (8-500 printable characters); it is recorded in the audit log.',
  },
  unauthorized: {
    status: 401,
    title: 'Unauthorized',
    when: 'No `Authorization: Bearer vs_…` header, or a malformed, unknown or revoked key; for a CDP connection, a missing or invalid connect_url token.',
    advice:
      'Send a live workspace API key; for CDP, connect with the connect_url of the session you are connecting to (fetch it again with GET /v1/sessions/{id}).',
  },
  'link-expired': {
    status: 401,
    title: 'Link expired',
    when: 'A live view link (viewer token valid 5 minutes) has expired.',
    advice: 'Ask for a new link: GET /v1/sessions/{id} or POST /v1/sessions/{id}/live-view.',
  },
  forbidden: {
    status: 403,
    title: 'Insufficient scope',
    when: 'The key is valid but lacks the scope the route needs (each operation lists it as x-required-scope in /openapi.json).',
    advice: 'Use a key with that scope, or ask a workspace admin (keys:admin) to create one.',
  },
  'not-found': {
    status: 404,
    title: 'Not found',
    when: 'No such route, or no such resource in your workspace (another workspace’s resource is a 404 too).',
    advice: 'Check the id and that the key belongs to the workspace that owns the resource.',
  },
  'method-not-allowed': {
    status: 405,
    title: 'Method not allowed',
    when: 'The route exists, but not with this method.',
    advice: 'Use one of the methods in the Allow header.',
  },
  'state-conflict': {
    status: 409,
    title: 'State conflict',
    when: 'The resource is in a state that forbids the action (e.g. releasing an EXPIRED session, connecting before RUNNING), or a duplicate create is still in flight.',
    advice:
      'Read the resource again and act on its current state; a duplicate create succeeds when retried with the same Idempotency-Key.',
  },
  'live-view-unavailable': {
    status: 409,
    title: 'Live view unavailable',
    when: 'The session’s runtime has no live view, or an interactive link was asked for a headless session.',
    advice: 'Use a headful pool for interactive hand-off; watch-only screencasts work for headless sessions.',
  },
  'session-lifetime-exceeded': {
    status: 409,
    title: 'Session lifetime limit reached',
    when: 'A :keepalive (or a create’s timeout_seconds) would run the session past the maximum lifetime an operator set for the workspace.',
    advice:
      'Finish within the limit the detail names (it gives the seconds left), or start a new session; an operator can raise the limit.',
  },
  'workspace-limit-reached': {
    status: 409,
    title: 'Workspace limit reached',
    when: 'The workspace holds as many profiles, or as many bytes of profile data, as an operator allows it.',
    advice: 'Delete profiles you no longer need, or ask an operator to raise the limit the detail names.',
  },
  'session-ended': {
    status: 410,
    title: 'Session ended',
    when: 'A CDP connection (or its token) names a session that has ended: COMPLETED, EXPIRED or ERRORED. Its pod is gone.',
    advice:
      'Create a new session (POST /v1/sessions) and connect to its connect_url; sessions are never reused.',
  },
  'payload-too-large': {
    status: 413,
    title: 'Payload too large',
    when: 'The body exceeds the size limit (5 MiB).',
    advice: 'Send less: split a large storage_state into a profile and its versions.',
  },
  'unsupported-media-type': {
    status: 415,
    title: 'Unsupported media type',
    when: 'A body that is not `application/json`.',
    advice: 'Send the body as JSON with Content-Type: application/json.',
  },
  'range-not-satisfiable': {
    status: 416,
    title: 'Range not satisfiable',
    when: 'A download asked for bytes past the end of the file (the `Range` header).',
    advice: 'Ask for a range within the size in `Content-Range` (`bytes */<size>`), or for the whole file.',
  },
  'unprocessable-entity': {
    status: 422,
    title: 'Unprocessable entity',
    when: 'Schema-correct but semantically invalid: an unknown region, a runtime kind with no pool, storage_state with rda, a pool a driver cannot run, a private proxy address.',
    advice:
      'Change the value `detail` names; GET /v1/pools (operators) shows which region and runtime_kind pools exist.',
  },
  'rate-limited': {
    status: 429,
    title: 'Too many requests',
    when: 'Too many requests from this key or address.',
    advice: 'Wait the seconds in Retry-After, then retry with backoff.',
  },
  'session-quota-exceeded': {
    status: 429,
    title: 'Session quota exceeded',
    when: 'The workspace already holds its limit of live sessions (QUEUED, PROVISIONING or RUNNING).',
    advice:
      'Release sessions you are done with, or retry after Retry-After (from how fast the workspace’s sessions end).',
  },
  'connection-limit-reached': {
    status: 429,
    title: 'Connection limit reached',
    when: 'A CDP or live-view WebSocket past the workspace’s limit of sockets (or viewers) per session.',
    advice: 'Close a socket you no longer use, then connect again.',
  },
  'internal-error': {
    status: 500,
    title: 'Internal error',
    when: 'A bug on our side; it is logged with the request id (X-Request-Id).',
    advice: 'Retry; if it persists, report the X-Request-Id.',
  },
  'insufficient-capacity': {
    status: 503,
    title: 'Insufficient capacity',
    when: 'The pool has no room (every slot up to max_total is admitted).',
    advice:
      'Retry after Retry-After seconds with backoff; operators raise max_total (ventus pools advise sizes it).',
  },
  'service-unavailable': {
    status: 503,
    title: 'Service unavailable',
    when: 'A dependency (Postgres, Redis, the pod) is unreachable or restarting.',
    advice: 'Retry the same request after Retry-After; nothing was lost.',
  },
} as const satisfies Record<string, { status: number; title: string; when: string; advice: string }>;

export type ProblemType = keyof typeof PROBLEMS;

/** The hosted product's problem base; documents are rebased onto each deployment's PUBLIC_URL. */
export const PROBLEM_BASE_URL = 'https://api.sessions.ventus.ai/errors/';

/** Where a deployment serves the page of problem `type`: `<PUBLIC_URL>/errors/<type>`. */
export function problemTypeUrl(publicUrl: string, type: ProblemType): string {
  return `${publicUrl.replace(/\/+$/, '')}/errors/${type}`;
}

export function isProblemType(name: string): name is ProblemType {
  return Object.hasOwn(PROBLEMS, name);
}

/**
 * The document as this deployment serves it: `type` names the page at its own PUBLIC_URL (which
 * explains the error and what to do), not the hosted product's.
 */
export function forDeployment(doc: ProblemDocument, publicUrl: string): ProblemDocument {
  const name = doc.type.startsWith(PROBLEM_BASE_URL) ? doc.type.slice(PROBLEM_BASE_URL.length) : '';
  return isProblemType(name) ? { ...doc, type: problemTypeUrl(publicUrl, name) } : doc;
}

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
