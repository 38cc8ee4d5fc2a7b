/**
 * Route schemas in one shape: what Fastify validates and serialises with is exactly what
 * /openapi.json publishes. Problem responses (RFC 7807) are added from the list a route declares.
 */
import type { FastifySchema } from 'fastify';
import type { TSchema } from 'typebox';
import { Type } from 'typebox';
import { PROBLEMS, type ProblemType } from '../../core/domain/problems.ts';
import { Problem } from '../../core/domain/problem.schema.ts';

export interface ResponseHeader {
  description: string;
  schema: TSchema;
}

export const HEADERS = {
  requestId: {
    description: 'Identifies this request in our logs; quote it in support requests.',
    schema: Type.String(),
  },
  retryAfter: {
    description: 'Seconds to wait before retrying.',
    schema: Type.String({ pattern: '^[0-9]+$' }),
  },
  location: { description: 'URL of the resource.', schema: Type.String() },
  preferenceApplied: {
    description: 'The `Prefer` the answer honoured (RFC 7240), e.g. `wait=30`: it was held for the session.',
    schema: Type.String(),
  },
} satisfies Record<string, ResponseHeader>;

function headerSchemas(headers: Record<string, ResponseHeader>) {
  return Object.fromEntries(
    Object.entries(headers).map(([name, h]) => [name, { ...h.schema, description: h.description }]),
  );
}

/** A JSON success response. */
export function jsonResponse(
  description: string,
  schema: TSchema,
  headers: Record<string, ResponseHeader> = {},
) {
  return {
    description,
    headers: headerSchemas({ 'X-Request-Id': HEADERS.requestId, ...headers }),
    content: { 'application/json': { schema } },
  };
}

/** A response without a body (204). */
export function emptyResponse(description: string) {
  return { description, type: 'null', headers: headerSchemas({ 'X-Request-Id': HEADERS.requestId }) };
}

const STATUS_DESCRIPTIONS: Record<number, string> = {
  400: 'Validation error: fix the request and retry.',
  401: 'Missing or invalid Bearer token.',
  403: 'Token valid, but scope insufficient.',
  404: "Resource doesn't exist (or isn't in your workspace).",
  409: 'State conflict.',
  413: 'Payload too large.',
  415: 'Unsupported media type.',
  422: 'Schema-correct but semantically invalid.',
  429: 'Rate-limited. See Retry-After.',
  500: 'Bug on our side; retry.',
  503: 'No capacity right now. Retryable with backoff.',
};

function problemResponses(types: readonly ProblemType[]) {
  const byStatus = new Map<number, ProblemType[]>();
  for (const t of types) byStatus.set(PROBLEMS[t].status, [...(byStatus.get(PROBLEMS[t].status) ?? []), t]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      {
        description: `${STATUS_DESCRIPTIONS[status] ?? 'Error.'} Problem types: ${list.join(', ')}.`,
        headers: headerSchemas({
          'X-Request-Id': HEADERS.requestId,
          ...(status === 429 || status === 503 ? { 'Retry-After': HEADERS.retryAfter } : {}),
        }),
        content: { 'application/problem+json': { schema: Problem } },
      },
    ]),
  );
}

/** Every authenticated route can answer these. */
const COMMON_PROBLEMS: ProblemType[] = ['unauthorized', 'rate-limited', 'internal-error'];
/** Any route can get a malformed or oversized body, whatever it expects. */
const BODY_PROBLEMS: ProblemType[] = ['validation-error', 'unsupported-media-type', 'payload-too-large'];

/**
 * Marks a header the route requires although its schema leaves it optional: the handler answers
 * its absence with a specific problem type (idempotency-key-required, reason-required) rather than
 * a generic validation error, and /openapi.json publishes it as required (publishRequiredHeaders).
 */
const REQUIRED_HEADER = 'x-required-header';

export function requiredHeader<T extends TSchema>(schema: T): T {
  return { ...schema, [REQUIRED_HEADER]: true };
}

/** A route schema as /openapi.json shows it: headers marked with requiredHeader() are required. */
export function publishRequiredHeaders<S extends { headers?: unknown }>(schema: S): S {
  const headers = schema.headers as { properties?: Record<string, object>; required?: string[] } | undefined;
  const marked = Object.entries(headers?.properties ?? {})
    .filter(([, property]) => REQUIRED_HEADER in property)
    .map(([name]) => name);
  if (marked.length === 0) return schema;
  return {
    ...schema,
    headers: { ...headers, required: [...new Set([...(headers!.required ?? []), ...marked])] },
  };
}

/** The route-schema (and OpenAPI operation) extension naming the one scope a route requires. */
export const REQUIRED_SCOPE = 'x-required-scope';

export interface RouteDoc {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** The scope the route requires (documented; enforced by requireScope in the handler). */
  scope?: string;
  /** False for the unauthenticated routes (/openapi.json, /healthz). */
  authenticated?: boolean;
  params?: TSchema;
  querystring?: TSchema;
  headers?: TSchema;
  body?: TSchema;
  responses: Record<number, object>;
  problems?: ProblemType[];
}

type Parts = 'params' | 'querystring' | 'body' | 'headers';
/** Keeps each part's exact TypeBox type, so handlers get typed params, query, body and headers. */
export type TypedSchema<D extends RouteDoc> = FastifySchema & {
  [K in Parts as K extends keyof D ? (undefined extends D[K] ? never : K) : never]: D[K];
};

export function routeSchema<const D extends RouteDoc>(doc: D): TypedSchema<D> {
  const authenticated = doc.authenticated ?? true;
  const problems = [
    ...new Set([...(authenticated ? COMMON_PROBLEMS : []), ...BODY_PROBLEMS, ...(doc.problems ?? [])]),
  ];
  const description = [doc.description, doc.scope && `Requires scope \`${doc.scope}\`.`]
    .filter(Boolean)
    .join('\n\n');
  const schema: FastifySchema = {
    operationId: doc.operationId,
    summary: doc.summary,
    ...(description && { description }),
    tags: doc.tags,
    ...(authenticated ? { security: [{ bearerAuth: [] }] } : { security: [] }),
    // Published in /openapi.json and enforced before validation (broker/auth.ts): 403 before 400.
    ...(doc.scope && { [REQUIRED_SCOPE]: doc.scope }),
    ...(doc.params && { params: doc.params }),
    ...(doc.querystring && { querystring: doc.querystring }),
    ...(doc.headers && { headers: doc.headers }),
    ...(doc.body && { body: doc.body }),
    response: { ...doc.responses, ...problemResponses(problems) },
  };
  // The parts copied above are D's own schemas, so the narrower type holds.
  return schema as TypedSchema<D>;
}
