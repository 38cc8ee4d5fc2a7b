/**
 * Keep-alive: a live session's `expires_at` moves forward by `seconds` (QUEUED included), audited as
 * the tenant's action, in one transaction that holds the row. An ended session is a 409; so is an
 * extension past the workspace's maximum session lifetime (`created_at` + the limit an operator set),
 * which changes nothing. The expire job reads `expires_at` when it fires, so nothing is rescheduled.
 */
import { appendAudit } from '../db/audit.repository.ts';
import { withTransaction, type Database } from '../db/database.ts';
import { extendSession, type Session } from '../db/sessions.repository.ts';
import { ProblemError } from '../domain/problems.ts';

export interface ExtendRequest {
  sessionId: string;
  seconds: number;
  /** The API key that asked. */
  actor: string;
}

export async function keepSessionAlive(db: Database, req: ExtendRequest): Promise<Session> {
  const outcome = await withTransaction(db, async (tx) => {
    const result = await extendSession(tx, req.sessionId, req.seconds);
    if (result.kind === 'extended') {
      await appendAudit(tx, {
        workspaceId: result.session.workspaceId,
        class: 'tenant',
        actor: req.actor,
        action: 'session.keepalive',
        targetType: 'session',
        targetId: req.sessionId,
        detail: { extend_seconds: req.seconds },
      });
    }
    return result;
  });
  if (outcome.kind === 'ended') {
    throw new ProblemError('state-conflict', {
      detail: `Session ${req.sessionId} has ended: only a live session can be kept alive`,
    });
  }
  if (outcome.kind === 'ceiling') {
    throw new ProblemError('session-lifetime-exceeded', {
      detail:
        `This workspace's maximum session lifetime is ${outcome.limitSeconds} s: this session cannot ` +
        `live past ${outcome.ceiling.toISOString()}, so it can be extended by at most ` +
        `${outcome.remainingSeconds} s more (extend_seconds was ${req.seconds}).`,
      extensions: { limit_seconds: outcome.limitSeconds, remaining_seconds: outcome.remainingSeconds },
    });
  }
  return outcome.session;
}
