/**
 * POST /v1/sessions/{id}/live-view: a fresh viewer link (`/v/{id}?token=`, 5 minutes to open), read-only
 * by default. `{"interactive": true}` hands the desktop over (CAPTCHA, MFA): the viewer's keyboard and
 * mouse then reach the browser, so it needs `sessions:write` and is audited with the key that asked.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ProblemError } from '../../core/domain/problems.ts';
import { appendAudit } from '../../core/db/audit.repository.ts';
import { podLiveView } from '../../core/runtime/pod-control.client.ts';
import { LIVE_VIEW_TOKEN_SECONDS } from '../../core/security/cdp-token.ts';
import type { Services } from '../../core/services.ts';
import { requireScope } from '../auth.ts';
import { emptyResponse, jsonResponse, routeSchema } from '../openapi/route-schema.ts';
import { liveViewUrl } from '../session-view.ts';
import { SessionIdParams } from './session.docs.ts';
import { sessionFinder, type SessionFinderDeps } from './session-finder.ts';

const LiveViewBody = Type.Object(
  {
    interactive: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "True: the viewer's keyboard, mouse and clipboard reach the browser (requires `sessions:write`). " +
          'False (default): watch only; the proxy drops every input message.',
      }),
    ),
  },
  { additionalProperties: false },
);

const LiveViewResource = Type.Object({
  live_view_url: Type.String({ description: 'The viewer page; open it within 5 minutes.' }),
  interactive: Type.Boolean(),
  expires_at: Type.String({
    format: 'date-time',
    description: 'Until when the link opens the viewer (an open viewer stays until the session ends).',
  }),
});

const ReasonHeader = Type.Object({
  'x-reason': Type.Optional(
    Type.String({ maxLength: 500, description: 'Optional: why the link is handed out; audited.' }),
  ),
});

// Control characters would let a reason forge lines in logs and audit exports.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/** The session's pod (its record, the agent's key) to open the view on; its route to revoke one. */
export type LiveViewRoutesDeps = SessionFinderDeps &
  Pick<Services, 'agentAccess' | 'podRecords' | 'sessionRoutes'>;

export function liveViewRoutes(services: LiveViewRoutesDeps) {
  const { findOwn } = sessionFinder(services);
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    api.post(
      '/v1/sessions/:id/live-view',
      {
        schema: routeSchema({
          operationId: 'createLiveViewLink',
          summary: "A link to watch (or take over) a session's browser",
          description:
            'Returns a viewer URL for the RUNNING session: the same desktop the automation drives, in real ' +
            'time, scaled to fit. The link opens the viewer for 5 minutes; the viewer closes when the ' +
            'session ends. Read-only unless `interactive` is true, enforced by the proxy (input messages are ' +
            'dropped), not just hidden in the page. An interactive link requires `sessions:write`. Every ' +
            'link is audited (`session.live_view`, with `interactive` and the optional `X-Reason`). A headless ' +
            "session's live view is its page's screencast, watch-only: an interactive link for it is a 409 " +
            '`live-view-unavailable`, as is any link for a runtime with no live view.',
          tags: ['sessions'],
          scope: 'sessions:read',
          params: SessionIdParams,
          headers: ReasonHeader,
          body: LiveViewBody,
          responses: { 200: jsonResponse('The viewer link.', LiveViewResource) },
          problems: ['forbidden', 'not-found', 'state-conflict', 'live-view-unavailable'],
        }),
        preValidation: async (request) => {
          if (request.body === undefined) request.body = {};
        },
      },
      async (request) => {
        const interactive = request.body.interactive === true;
        const principal = requireScope(request, interactive ? 'sessions:write' : 'sessions:read');
        const session = await findOwn(principal.workspaceId, request.params.id);
        if (session.status !== 'RUNNING')
          throw new ProblemError('state-conflict', {
            detail: `Session ${session.id} is ${session.status}; only a RUNNING session can be watched`,
          });
        const pod = session.podId ? await services.podRecords.getPod(session.podId) : undefined;
        const liveView = pod
          ? await podLiveView(services.agentAccess, pod)
          : { available: false, interactive: false };
        if (!liveView.available)
          throw new ProblemError('live-view-unavailable', {
            detail: `Session ${session.id} has no live view (its browser runtime shows no desktop)`,
          });
        // A headless pod's live view is its page's screencast: something to watch, nothing to type into.
        if (interactive && !liveView.interactive)
          throw new ProblemError('live-view-unavailable', {
            detail: `Session ${session.id} runs a headless browser: it can be watched, not handed over`,
          });
        const reason = request.headers['x-reason']?.trim();
        if (reason !== undefined && CONTROL.test(reason))
          throw new ProblemError('validation-error', { detail: 'X-Reason must not hold control characters' });
        const now = new Date();
        const token = await services.tokens.liveViewToken(session.workspaceId, session.id, now, {
          interactive,
        });
        await appendAudit(services.db, {
          workspaceId: session.workspaceId,
          class: 'tenant',
          actor: principal.keyId,
          action: 'session.live_view',
          targetType: 'session',
          targetId: session.id,
          detail: { interactive, ...(reason && { x_reason: reason }) },
        });
        const expiresAt = new Date((Math.floor(now.getTime() / 1000) + LIVE_VIEW_TOKEN_SECONDS) * 1000);
        return {
          live_view_url: liveViewUrl(services.config.publicUrl, session.id, token),
          interactive,
          expires_at: expiresAt.toISOString(),
        };
      },
    );

    api.post(
      '/v1/sessions/:id/live-view::revoke',
      {
        schema: routeSchema({
          operationId: 'revokeLiveViewLinks',
          summary: "Revoke a session's live-view links and close its viewers",
          description:
            'Every live-view link of the session handed out until now stops opening viewers, and every ' +
            'viewer watching (or driving, after an interactive hand-off) is disconnected at once, on every ' +
            'proxy replica. Links made afterwards work (a link made within the same second as the ' +
            'revocation is revoked too). Audited (`session.live_view_revoked`). Requires `sessions:write`.',
          tags: ['sessions'],
          scope: 'sessions:write',
          params: SessionIdParams,
          responses: { 204: emptyResponse('Revoked; the viewers are being closed.') },
          problems: ['forbidden', 'not-found'],
        }),
      },
      async (request, reply) => {
        const principal = requireScope(request, 'sessions:write');
        const session = await findOwn(principal.workspaceId, request.params.id);
        await services.sessionRoutes.revokeLiveView(session.id);
        await appendAudit(services.db, {
          workspaceId: session.workspaceId,
          class: 'tenant',
          actor: principal.keyId,
          action: 'session.live_view_revoked',
          targetType: 'session',
          targetId: session.id,
          detail: {},
        });
        return reply.code(204).send();
      },
    );
  };
}
