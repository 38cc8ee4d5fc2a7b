/** /v1/sessions/{id}:keepalive, admin force-stop (DELETE), and the transition history. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SessionResource } from '../../core/domain/session.schema.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { ULID_PATTERN } from '../../core/domain/ids.ts';
import { readCursor, toPage } from '../../core/domain/cursor.ts';
import { DEFAULT_PAGE_SIZE, PageQuery } from '../../core/domain/pagination.schema.ts';
import { listTransitions } from '../../core/db/session-transitions.repository.ts';
import { endSession, type EndSessionDeps } from '../../core/lifecycle/end-session.ts';
import { keepSessionAlive } from '../../core/lifecycle/extend-session.ts';
import { requireScope } from '../auth.ts';
import { emptyResponse, jsonResponse, routeSchema } from '../openapi/route-schema.ts';
import { KeepAliveBody, ReasonHeaders, SessionIdParams, TransitionList } from './session.docs.ts';
import { sessionFinder, type SessionFinderDeps } from './session-finder.ts';

/** `:id` constrained to a ULID so `/v1/sessions/{id}:keepalive` can share the path segment. */
const KEEPALIVE_PATH = `/v1/sessions/:id(${ULID_PATTERN.slice(1, -1)})::keepalive`;
// Control characters would let a reason forge lines in logs and audit exports.
// eslint-disable-next-line no-control-regex
const REASON = /^[^\x00-\x1f\x7f]{8,500}$/;
/** A transition's position: its bigserial id. */
const TRANSITION_SEQ = /^[1-9][0-9]{0,17}$/;

export type SessionActionsRoutesDeps = SessionFinderDeps & EndSessionDeps;

export function sessionActionsRoutes(services: SessionActionsRoutesDeps) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const { view, findOwn, findAny } = sessionFinder(services);

    api.post(
      KEEPALIVE_PATH,
      {
        schema: routeSchema({
          operationId: 'keepAliveSession',
          summary: 'Extend a session',
          description:
            'Moves `expires_at` forward by `extend_seconds` (default 600, at most 86400 per call). ' +
            'Any number of keep-alives are allowed while the session lives (QUEUED included); an ended session ' +
            'is a 409. When an operator set a maximum session lifetime for the workspace, a keep-alive that ' +
            'would move `expires_at` past `created_at` + that limit is refused (409 `session-lifetime-exceeded`, ' +
            'the limit and the seconds left in the detail) and changes nothing.',
          tags: ['sessions'],
          scope: 'sessions:write',
          params: SessionIdParams,
          body: KeepAliveBody,
          responses: { 200: jsonResponse('The session with its new expires_at.', SessionResource) },
          problems: ['forbidden', 'not-found', 'state-conflict', 'session-lifetime-exceeded'],
        }),
        preValidation: async (request) => {
          if (request.body === undefined) request.body = {};
        },
      },
      async (request) => {
        const principal = requireScope(request, 'sessions:write');
        const session = await findOwn(principal.workspaceId, request.params.id);
        const extended = await keepSessionAlive(services.db, {
          sessionId: session.id,
          seconds: request.body.extend_seconds ?? 600,
          actor: principal.keyId,
        });
        return view(extended);
      },
    );

    api.delete(
      '/v1/sessions/:id',
      {
        schema: routeSchema({
          operationId: 'forceStopSession',
          summary: 'Force-stop a session (operator)',
          description:
            'Operator surface: ends a session in any workspace (COMPLETED, `release_reason: admin_terminated`). ' +
            'Requires `X-Reason` (at least 8 characters), recorded in the audit log as an admin action.',
          tags: ['sessions'],
          scope: 'operator',
          params: SessionIdParams,
          headers: ReasonHeaders,
          responses: { 204: emptyResponse('Stopped (or it had already ended).') },
          problems: ['reason-required', 'forbidden', 'not-found'],
        }),
      },
      async (request, reply) => {
        const principal = requireScope(request, 'operator');
        const reason = request.headers['x-reason'];
        if (typeof reason !== 'string' || !REASON.test(reason.trim())) {
          throw new ProblemError('reason-required', {
            detail: 'Send X-Reason with at least 8 characters (no control characters) explaining the stop',
          });
        }
        const session = await findAny(request.params.id);
        await endSession(services, {
          sessionId: session.id,
          reason: 'admin_terminated',
          actor: principal.keyId,
          auditClass: 'admin',
          detail: { x_reason: reason.trim() },
        });
        return reply.code(204).send();
      },
    );

    api.get(
      '/v1/sessions/:id/transitions',
      {
        schema: routeSchema({
          operationId: 'listSessionTransitions',
          summary: "A session's state history",
          description:
            'The append-only transitions, oldest first, cursor-paginated like every list. The same moves ' +
            'are in the audit log (`GET /v1/audit?target=session:{id}`, `detail.from`/`to`/`reason`).',
          tags: ['sessions'],
          scope: 'sessions:read',
          params: SessionIdParams,
          querystring: PageQuery,
          responses: { 200: jsonResponse('A page of transitions.', TransitionList) },
          problems: ['validation-error', 'forbidden', 'not-found'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'sessions:read');
        const { limit = DEFAULT_PAGE_SIZE, cursor } = request.query;
        const afterSeq = readCursor(cursor, (p) => TRANSITION_SEQ.test(p));
        const session = await findOwn(principal.workspaceId, request.params.id);
        const rows = await listTransitions(services.db, session.id, {
          ...(afterSeq && { afterSeq }),
          limit: limit + 1,
        });
        const page = toPage(rows, limit, (t) => t.seq);
        return {
          ...page,
          items: page.items.map(({ seq: _seq, ...t }) => ({ ...t, at: t.at.toISOString() })),
        };
      },
    );
  };
}
