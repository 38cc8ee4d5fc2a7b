/** /v1/sessions: create (idempotent), list, read, release. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CreateSessionBody, SessionResource, UpdateSessionBody } from '../../core/domain/session.schema.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { readCursor, toPage } from '../../core/domain/cursor.ts';
import { DEFAULT_PAGE_SIZE, pageOf } from '../../core/domain/pagination.schema.ts';
import type { SessionStatus } from '../../core/domain/session-states.ts';
import { listSessions, type Session } from '../../core/db/sessions.repository.ts';
import { endSession } from '../../core/lifecycle/end-session.ts';
import type { Services } from '../../core/services.ts';
import { requireScope } from '../auth.ts';
import { HEADERS, jsonResponse, routeSchema } from '../openapi/route-schema.ts';
import { createSession } from '../session-admission.ts';
import { IdempotencyHeaders, ListSessionsQuery, SessionIdParams } from './session.docs.ts';
import { sessionFinder } from './session-finder.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const SessionList = pageOf(SessionResource);

function parseLabels(label: string | string[] | undefined): Record<string, string> {
  const pairs = label === undefined ? [] : Array.isArray(label) ? label : [label];
  return Object.fromEntries(
    pairs.map((pair) => {
      const i = pair.indexOf(':');
      return [pair.slice(0, i), pair.slice(i + 1)];
    }),
  );
}

export function sessionsRoutes(services: Services) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const { view, findOwn } = sessionFinder(services);

    api.post(
      '/v1/sessions',
      {
        schema: routeSchema({
          operationId: 'createSession',
          summary: 'Create a session',
          description:
            'Admits the session against the pool (503 when it has no room) and returns it QUEUED with 202. ' +
            'Poll GET /v1/sessions/{id} until RUNNING, then connect to `connect_url` with any CDP client. ' +
            'A replay with the same Idempotency-Key within 24 h returns the original session with 200. ' +
            'Starting from a profile (`profile_id`) also requires `profiles:read`.',
          tags: ['sessions'],
          scope: 'sessions:write',
          headers: IdempotencyHeaders,
          body: CreateSessionBody,
          responses: {
            200: jsonResponse('Idempotent replay: the session first created with this key.', SessionResource),
            202: jsonResponse('Accepted: the session is QUEUED.', SessionResource, {
              Location: HEADERS.location,
            }),
          },
          problems: [
            'idempotency-key-required',
            'forbidden',
            'state-conflict',
            'unprocessable-entity',
            'insufficient-capacity',
            'payload-too-large',
            'unsupported-media-type',
          ],
        }),
        // All fields are optional: a POST with no body at all means "all defaults".
        preValidation: async (request) => {
          if (request.body === undefined) request.body = {};
        },
      },
      async (request, reply) => {
        const principal = requireScope(request, 'sessions:write');
        // A session started from a profile exposes its cookies over CDP: reading them needs the scope.
        if (request.body.profile_id !== undefined) requireScope(request, 'profiles:read');
        const key = request.headers['idempotency-key'];
        if (typeof key !== 'string' || key.length === 0) {
          throw new ProblemError('idempotency-key-required', {
            detail: 'POST /v1/sessions requires an Idempotency-Key header (e.g. a UUID)',
          });
        }
        if (!IDEMPOTENCY_KEY.test(key)) {
          throw new ProblemError('validation-error', {
            detail: 'Idempotency-Key must be 1-255 printable ASCII characters without spaces',
          });
        }
        const { session, replayed } = await createSession(services, principal, key, request.body);
        void reply.code(replayed ? 200 : 202).header('Location', `/v1/sessions/${session.id}`);
        return view(session);
      },
    );

    api.get(
      '/v1/sessions',
      {
        schema: routeSchema({
          operationId: 'listSessions',
          summary: 'List sessions',
          description: 'Cursor-paginated, sorted by id (ULID, i.e. creation time); stable across inserts.',
          tags: ['sessions'],
          scope: 'sessions:read',
          querystring: ListSessionsQuery,
          responses: { 200: jsonResponse('A page of sessions.', SessionList) },
          problems: ['validation-error', 'forbidden'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'sessions:read');
        const { limit = DEFAULT_PAGE_SIZE, cursor, status, label } = request.query;
        const afterId = readCursor(cursor);
        const rows = await listSessions(services.db, {
          workspaceId: principal.workspaceId,
          ...(afterId && { afterId }),
          ...(status && { statuses: status.split(',') as SessionStatus[] }),
          labels: parseLabels(label),
          limit: limit + 1,
        });
        const page = toPage(rows, limit, (s: Session) => s.id);
        return { ...page, items: await Promise.all(page.items.map(view)) };
      },
    );

    api.get(
      '/v1/sessions/:id',
      {
        schema: routeSchema({
          operationId: 'getSession',
          summary: 'Get a session',
          tags: ['sessions'],
          scope: 'sessions:read',
          params: SessionIdParams,
          responses: { 200: jsonResponse('The session.', SessionResource) },
          problems: ['forbidden', 'not-found'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'sessions:read');
        return view(await findOwn(principal.workspaceId, request.params.id));
      },
    );

    api.patch(
      '/v1/sessions/:id',
      {
        schema: routeSchema({
          operationId: 'releaseSession',
          summary: 'Release a session',
          description:
            'Send `{"status":"REQUEST_RELEASE"}`: the session becomes COMPLETED with `release_reason: client_release` ' +
            'and its pod is destroyed. Releasing a COMPLETED session again returns it unchanged.',
          tags: ['sessions'],
          scope: 'sessions:write',
          params: SessionIdParams,
          body: UpdateSessionBody,
          responses: { 200: jsonResponse('The released session.', SessionResource) },
          problems: ['forbidden', 'not-found', 'state-conflict'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'sessions:write');
        const session = await findOwn(principal.workspaceId, request.params.id);
        const ended = await endSession(services, {
          sessionId: session.id,
          reason: 'client_release',
          actor: principal.keyId,
          auditClass: 'tenant',
        });
        if (ended) return view(ended);
        const current = await findOwn(principal.workspaceId, session.id);
        // Releasing twice is harmless; releasing a session that expired or errored is a conflict.
        if (current.status === 'COMPLETED') return view(current);
        throw new ProblemError('state-conflict', {
          detail: `Session ${session.id} already ended as ${current.status}`,
        });
      },
    );
  };
}
