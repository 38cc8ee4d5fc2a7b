/**
 * Who may watch what: a viewer token (core/security/cdp-token.ts, audience `live-view`) is checked
 * against the session on every page load and every VNC connect. The verdict carries the problem to
 * answer with, so the page, the status endpoint and the WebSocket refuse alike.
 */
import { getSession } from '../core/db/sessions.repository.ts';
import { isTerminal } from '../core/domain/session-states.ts';
import { PROBLEMS, type ProblemType } from '../core/domain/problems.ts';
import { LiveViewTokenExpiredError, type LiveViewClaims } from '../core/security/cdp-token.ts';
import type { SessionRoute } from '../core/redis/session-routes.ts';
import type { Services } from '../core/services.ts';
import type { AgentRef } from '../core/runtime/agent.client.ts';

/** The signing keys for the viewer token; the session's route, its revocation and its row. */
export type ViewerAccessDeps = Pick<Services, 'db' | 'sessionRoutes' | 'tokens'>;

/** What the viewer page shows; also the `state` of GET /v/{id}/status. */
export type ViewerState = 'live' | 'ended' | 'expired' | 'invalid' | 'not-found' | 'not-running';

export type Access =
  | { ok: true; claims: LiveViewClaims; route: SessionRoute }
  | { ok: false; state: ViewerState; problem: ProblemType; status: number; detail: string };

const deny = (state: ViewerState, problem: ProblemType, detail: string): Access & { ok: false } => ({
  ok: false,
  state,
  problem,
  status: PROBLEMS[problem].status,
  detail,
});

/**
 * Verifies `token` for `sessionId`: signature, audience, expiry, the session id and workspace it
 * claims, and that the session is RUNNING (has a route). Never throws for a bad token. `explainOnly`
 * (the status endpoint, which grants nothing) reports an ended session as ended even past expiry.
 */
export async function checkViewer(
  services: ViewerAccessDeps,
  sessionId: string,
  token: string | null,
  options: { explainOnly?: boolean } = {},
): Promise<Access> {
  if (!token) return deny('invalid', 'unauthorized', 'The live view link has no token');
  let claims: LiveViewClaims;
  let expired = false;
  try {
    claims = await services.tokens.verifyLiveView(token);
  } catch (err) {
    if (!(err instanceof LiveViewTokenExpiredError))
      return deny('invalid', 'unauthorized', 'The live view token is invalid');
    if (!options.explainOnly) return expiredLink();
    // Explaining a disconnect: "session ended" wins over "link expired" when both are true.
    claims = await services.tokens.verifyLiveView(token, new Date(), { ignoreExpiry: true });
    expired = true;
  }
  // A token is for one session: replaying it against another session's path is refused.
  if (claims.sessionId !== sessionId)
    return deny('invalid', 'unauthorized', 'The token is not valid for this session');
  // Links made up to a revocation (iat has whole seconds: one made in the same second goes too).
  const revokedAt = await services.sessionRoutes.liveViewRevokedAt(sessionId);
  if (revokedAt !== undefined && claims.issuedAt.getTime() <= revokedAt && !options.explainOnly)
    return deny('expired', 'link-expired', 'The live view link was revoked; ask for a new one');
  const route = await services.sessionRoutes.get(sessionId);
  if (route && route.workspaceId === claims.workspaceId)
    return expired ? expiredLink() : { ok: true, claims, route };
  const session = await getSession(services.db, sessionId);
  if (!session || session.workspaceId !== claims.workspaceId)
    return deny('not-found', 'not-found', 'Session not found');
  if (isTerminal(session.status))
    return deny('ended', 'state-conflict', `The session has ended (${session.status})`);
  return deny(
    'not-running',
    'state-conflict',
    `The session is ${session.status}; watch it once it is RUNNING`,
  );
}

function expiredLink(): Access & { ok: false } {
  return deny('expired', 'link-expired', 'The live view link has expired; ask for a new one');
}

/** The pod agent behind a route. */
export function agentOf(route: SessionRoute): AgentRef {
  return { id: route.podId, controlUrl: route.controlUrl };
}
