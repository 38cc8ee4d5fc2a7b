/** /v1/sessions: create (idempotent), read, release. */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CreateSessionBody, UpdateSessionBody } from '../../core/domain/session.schema.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { isUlid } from '../../core/domain/ids.ts';
import { getWorkspaceSession, type Session } from '../../core/db/sessions.repository.ts';
import { endSession } from '../../core/lifecycle/end-session.ts';
import type { Services } from '../../core/services.ts';
import { requireScope } from '../auth.ts';
import { toSessionResource } from '../session-view.ts';
import { createSession } from '../session-admission.ts';

const SessionParams = Type.Object({ id: Type.String() });
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function sessionsRoutes(services: Services) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const view = (s: Session) => toSessionResource(s, services.tokens, services.config.publicUrl);

    async function findOwn(workspaceId: string, id: string): Promise<Session> {
      const session = isUlid(id) ? await getWorkspaceSession(services.db, workspaceId, id) : undefined;
      if (!session) throw new ProblemError('not-found', { detail: `Session ${id} not found` });
      return session;
    }

    api.post(
      '/v1/sessions',
      {
        schema: { body: CreateSessionBody },
        // All fields are optional: a POST with no body at all means "all defaults".
        preValidation: async (request) => {
          request.body ??= {};
        },
      },
      async (request, reply) => {
        const principal = requireScope(request, 'sessions:write');
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

    api.get('/v1/sessions/:id', { schema: { params: SessionParams } }, async (request) => {
      const principal = requireScope(request, 'sessions:read');
      return view(await findOwn(principal.workspaceId, request.params.id));
    });

    api.patch(
      '/v1/sessions/:id',
      { schema: { params: SessionParams, body: UpdateSessionBody } },
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
