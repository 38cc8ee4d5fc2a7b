/** Renders every error as application/problem+json (RFC 7807); unknown routes included. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  forDeployment,
  ProblemError,
  problemDocument,
  type ProblemDocument,
} from '../core/domain/problems.ts';
import { isDependencyOutage } from '../core/process/dependency-outage.ts';
import { READINESS_RETRY_AFTER_SECONDS } from '../core/process/health.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The deployment's public base URL (PUBLIC_URL), read when a response is written. */
    readonly publicUrl: string;
  }
}

export function sendProblem(reply: FastifyReply, doc: ProblemDocument, retryAfter?: number): FastifyReply {
  // Also set here: router-level errors answer before the onRequest hook that normally sets it.
  void reply.header('X-Request-Id', reply.request.id);
  if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
  if (doc.status === 401) void reply.header('WWW-Authenticate', 'Bearer realm="ventus"');
  return reply
    .code(doc.status)
    .type('application/problem+json')
    .send(forDeployment(doc, reply.server.publicUrl));
}

function instanceOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? request.url;
}

/** Maps Fastify's own errors (validation, body parsing, limits) onto the problem registry. */
function fromFastifyError(err: FastifyError, instance: string): ProblemDocument | undefined {
  if (err.validation) {
    const errors = err.validation.map((v) => ({
      field: `${err.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}`,
      message: v.message ?? 'is invalid',
      ...(v.keyword === 'additionalProperties' && {
        unknown_field: (v.params as { additionalProperty?: string }).additionalProperty,
      }),
    }));
    const first = errors[0];
    const detail = first
      ? `${first.field} ${first.message}${first.unknown_field ? `: '${first.unknown_field}'` : ''}`
      : 'Invalid request';
    return problemDocument('validation-error', { detail, instance, errors });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problemDocument('payload-too-large', {
        detail: 'Request body exceeds the size limit',
        instance,
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problemDocument('unsupported-media-type', {
        detail: 'Send the body as application/json',
        instance,
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problemDocument('validation-error', { detail: 'Body is not valid JSON', instance });
    default:
      break;
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    if (err instanceof SyntaxError)
      return problemDocument('validation-error', { detail: 'Body is not valid JSON', instance });
    return {
      ...problemDocument('validation-error', { detail: err.message, instance }),
      status: err.statusCode,
    };
  }
  return undefined;
}

export function registerProblemHandlers(app: FastifyInstance, config: { publicUrl: string }): void {
  // A getter: tests (and `ventus up` on port 0) learn the public URL only once the server listens.
  app.decorate('publicUrl', { getter: () => config.publicUrl });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const instance = instanceOf(request);
    if (err instanceof ProblemError) return sendProblem(reply, err.toDocument(instance), err.retryAfter);
    const mapped = fromFastifyError(err, instance);
    if (mapped) return sendProblem(reply, mapped);
    if (isDependencyOutage(err)) {
      // Postgres or Redis is down or restarting: the same request succeeds once it is back.
      request.log.warn({ err }, 'a store is unavailable');
      return sendProblem(
        reply,
        problemDocument('service-unavailable', {
          detail: 'A backing store is unavailable (restarting or unreachable); retry the same request',
          instance,
        }),
        READINESS_RETRY_AFTER_SECONDS,
      );
    }
    request.log.error({ err }, 'unhandled error');
    return sendProblem(
      reply,
      problemDocument('internal-error', { detail: 'An unexpected error occurred; please retry', instance }),
    );
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problemDocument('not-found', {
        detail: `No route ${request.method} ${instanceOf(request)}`,
        instance: instanceOf(request),
      }),
    ),
  );
}
