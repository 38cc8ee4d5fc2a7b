/** /v1/sessions: create (idempotent), list, read, release. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CreateSessionBody, SessionResource, UpdateSessionBody } from '../../core/domain/session.schema.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { isUlid } from '../../core/domain/ids.ts';
import { parseLabelFilter } from '../../core/domain/label-filter.ts';
import { readCursor, toPage } from '../../core/domain/cursor.ts';
import { DEFAULT_PAGE_SIZE, pageOf } from '../../core/domain/pagination.schema.ts';
import type { SessionStatus } from '../../core/domain/session-states.ts';
import { listSessions, type Session } from '../../core/db/sessions.repository.ts';
import { endSession, type EndSessionDeps } from '../../core/lifecycle/end-session.ts';
import type { Services } from '../../core/services.ts';
import { requireScope } from '../auth.ts';
import { HEADERS, jsonResponse, routeSchema } from '../openapi/route-schema.ts';
import { createSession, findReplay, type CreateSessionDeps } from '../../core/lifecycle/admit-session.ts';
import { CreateSessionHeaders, GetSessionQuery, ListSessionsQuery, SessionIdParams } from './session.docs.ts';
import { sessionFinder, type SessionFinderDeps } from './session-finder.ts';
import { SessionWaiters } from '../session-waiters.ts';
import { preferredWaitSeconds } from '../prefer-wait.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const SessionList = pageOf(SessionResource);

/** The request's Idempotency-Key; a missing or malformed one is a 400. */
function idempotencyKeyOf(request: FastifyRequest): string {
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
  return key;
}

/** Aborts when the response closes before it was sent: the client went away. */
function clientGone(reply: FastifyReply): AbortSignal {
  const gone = new AbortController();
  reply.raw.once('close', () => gone.abort());
  return gone.signal;
}

function parseLabels(label: string | string[] | undefined): Record<string, string> {
  const filters = label === undefined ? [] : Array.isArray(label) ? label : [label];
  return Object.fromEntries(
    filters.map((filter) => {
      const pair = parseLabelFilter(filter);
      if (!pair) {
        throw new ProblemError('validation-error', {
          detail: 'label must be <key>:<value>, with \\: and \\\\ escaping a colon or backslash in the key',
        });
      }
      return pair;
    }),
  );
}

/** Create (admission), read and wait (the RUNNING announcements), list and release. */
export type SessionsRoutesDeps = CreateSessionDeps &
  SessionFinderDeps &
  EndSessionDeps &
  Pick<Services, 'duplicateRedis' | 'sessionRoutes'>;

export function sessionsRoutes(services: SessionsRoutesDeps) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const { view, findOwn } = sessionFinder(services);
    const waiters = new SessionWaiters(services.sessionRoutes, () => services.duplicateRedis());
    /**
     * The session a create answers with: as it is, or with `Prefer: wait=N` once it is RUNNING or has
     * ended (at most N s). The session is committed first: the wait only holds the answer, as a GET
     * with wait_seconds would.
     */
    const asPreferred = async (request: FastifyRequest, reply: FastifyReply, session: Session) => {
      const waitSeconds = preferredWaitSeconds(request.headers.prefer);
      if (waitSeconds === undefined) return session;
      void reply.header('Preference-Applied', `wait=${waitSeconds}`);
      const find = () => findOwn(session.workspaceId, session.id);
      return waiters.whileStarting(session.id, waitSeconds * 1000, find, clientGone(reply));
    };

    api.post(
      '/v1/sessions',
      {
        schema: routeSchema({
          operationId: 'createSession',
          summary: 'Create a session',
          description:
            "Admits the session against the pool (503 when it has no room) and the workspace's share of live " +
            'sessions (429 `session-quota-exceeded` at its limit), both with a Retry-After from the observed ' +
            'turnover, and returns it QUEUED with 202. ' +
            'Wait for RUNNING with one GET /v1/sessions/{id}?wait_seconds=30 (no polling), or in this same ' +
            'request with `Prefer: wait=30`, then connect to `connect_url` with any CDP client. ' +
            'A replay with the same Idempotency-Key within 24 h returns the original session with 200. ' +
            'Starting from a profile (`profile_id`) also requires `profiles:read`.',
          tags: ['sessions'],
          scope: 'sessions:write',
          headers: CreateSessionHeaders,
          body: CreateSessionBody,
          responses: {
            200: jsonResponse(
              'Idempotent replay: the session first created with this key.',
              SessionResource,
              {
                'Preference-Applied': HEADERS.preferenceApplied,
              },
            ),
            202: jsonResponse(
              'Accepted: the session is QUEUED (with `Prefer: wait=N`, as it stands after the wait).',
              SessionResource,
              { Location: HEADERS.location, 'Preference-Applied': HEADERS.preferenceApplied },
            ),
          },
          problems: [
            'idempotency-key-required',
            'forbidden',
            'state-conflict',
            'unprocessable-entity',
            'insufficient-capacity',
            'session-quota-exceeded',
            'payload-too-large',
            'unsupported-media-type',
          ],
        }),
        // "Subsequent calls with the same K and any payload (within 24 h) return the original session
        // and 200": the replay is answered before the body is parsed or validated, so a retry whose
        // body is malformed, oversized or off the schema still gets its session back.
        preParsing: async (request, reply, payload) => {
          const principal = requireScope(request, 'sessions:write');
          const earlier = await findReplay(services, principal, idempotencyKeyOf(request));
          if (earlier) {
            void reply.code(200).header('Location', `/v1/sessions/${earlier.id}`);
            await reply.send(await view(await asPreferred(request, reply, earlier)));
          }
          return payload;
        },
        // All fields are optional: a POST with no body at all means "all defaults".
        preValidation: async (request) => {
          if (request.body === undefined) request.body = {};
        },
      },
      async (request, reply) => {
        const principal = requireScope(request, 'sessions:write');
        // A session started from a profile exposes its cookies over CDP: reading them needs the scope.
        if (request.body.profile_id !== undefined) requireScope(request, 'profiles:read');
        const key = idempotencyKeyOf(request);
        const { session, replayed } = await createSession(services, principal, key, request.body);
        void reply.code(replayed ? 200 : 202).header('Location', `/v1/sessions/${session.id}`);
        return view(await asPreferred(request, reply, session));
      },
    );

    api.get(
      '/v1/sessions',
      {
        schema: routeSchema({
          operationId: 'listSessions',
          summary: 'List sessions',
          description:
            'Cursor-paginated, sorted by id (ULID, i.e. creation time): oldest first, or newest first with ' +
            '`order=desc`; stable across inserts.',
          tags: ['sessions'],
          scope: 'sessions:read',
          querystring: ListSessionsQuery,
          responses: { 200: jsonResponse('A page of sessions.', SessionList) },
          problems: ['validation-error', 'forbidden'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'sessions:read');
        const { limit = DEFAULT_PAGE_SIZE, cursor, status, label, order = 'asc' } = request.query;
        const afterId = readCursor(cursor);
        const rows = await listSessions(services.db, {
          workspaceId: principal.workspaceId,
          ...(afterId && { afterId }),
          ...(status && { statuses: status.split(',') as SessionStatus[] }),
          labels: parseLabels(label),
          newestFirst: order === 'desc',
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
          description:
            'With `wait_seconds`, a QUEUED or PROVISIONING session is answered the moment it becomes ' +
            'RUNNING or ends, or after that many seconds with its state then: one request instead of ' +
            'polling (it counts once against the rate limit).',
          params: SessionIdParams,
          querystring: GetSessionQuery,
          responses: { 200: jsonResponse('The session.', SessionResource) },
          problems: ['forbidden', 'not-found'],
        }),
      },
      async (request, reply) => {
        const principal = requireScope(request, 'sessions:read');
        const { id } = request.params;
        const find = () => findOwn(principal.workspaceId, id);
        const waitMs = (request.query.wait_seconds ?? 0) * 1000;
        if (waitMs === 0) return view(await find());
        return view(await waiters.whileStarting(id, waitMs, find, clientGone(reply)));
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
        const { id } = request.params;
        // The common case in one statement: the caller's own live session ends. Otherwise one read
        // tells a session of another workspace or none (404) from one that had ended.
        const ended =
          isUlid(id) &&
          (await endSession(services, {
            sessionId: id,
            workspaceId: principal.workspaceId,
            reason: 'client_release',
            actor: principal.keyId,
            auditClass: 'tenant',
          }));
        if (ended) return view(ended);
        const current = await findOwn(principal.workspaceId, id);
        // Releasing twice is harmless; releasing a session that expired or errored is a conflict.
        if (current.status === 'COMPLETED') return view(current);
        throw new ProblemError('state-conflict', {
          detail: `Session ${id} already ended as ${current.status}`,
        });
      },
    );
  };
}
