/** A session's status moves and their append-only history. Every status write is a compare-and-set. */
import type { Queryable } from './database.ts';
import type { AuditClass } from './audit.repository.ts';
import { toSession, type Session, type SessionRow } from './sessions.repository.ts';
import type { ReleaseReason, SessionStatus } from '../domain/session-states.ts';
import { newId } from '../domain/ids.ts';

/** The audit action of a move to `to` (`session.provisioning`, `session.completed`, …). */
export function transitionAction(to: SessionStatus): string {
  return `session.${to.toLowerCase()}`;
}

export interface TransitionRequest {
  id: string;
  /** The compare-and-set: the write happens only while the status is one of these. */
  from: readonly SessionStatus[];
  to: SessionStatus;
  reason?: string;
  actor: string;
  podId?: string;
  releaseReason?: ReleaseReason;
  error?: string;
  /** Only a session of this workspace moves (a tenant's own release: another's is left alone). */
  workspaceId?: string;
  /** PROVISIONING: start the clock (`started_at = now`, `expires_at = now + timeout_seconds`). */
  startClock?: boolean;
  /**
   * How the transition's audit row reads. Every transition writes one (the audit log alone replays a
   * session's history); without this it is a `system` row `session.<status>` by `actor`.
   */
  audit?: Partial<TransitionAudit>;
}

export interface TransitionAudit {
  id: string;
  class: AuditClass;
  action: string;
  /** Allowlisted extras; `from`, `to` and `reason` are always added. */
  detail: Record<string, string>;
}

/**
 * Moves a session from one of `from` to `to` and appends the transition and its audit row (with
 * `from`, `to`, `reason` in `detail`, so the audit log replays the session's history), in one
 * statement.
 * Returns the updated session, or undefined when the session was not in an expected state (a lost race).
 */
export async function transitionSession(q: Queryable, t: TransitionRequest): Promise<Session | undefined> {
  const terminal = t.releaseReason !== undefined;
  const { rows } = await q.query<SessionRow>(
    `WITH old AS (SELECT id, status FROM sessions
                  WHERE id = $1 AND ($15::text IS NULL OR workspace_id = $15) FOR UPDATE),
     upd AS (
       UPDATE sessions s SET
         status = $2,
         pod_id = COALESCE($5, s.pod_id),
         started_at = CASE WHEN $8 THEN now() ELSE s.started_at END,
         -- The clock starts now, but never runs past the workspace's lifetime ceiling (if any).
         expires_at = CASE WHEN $8 THEN LEAST(now() + make_interval(secs => s.timeout_seconds),
           s.created_at + (SELECT make_interval(secs => w.limit_session_lifetime_seconds)
                             FROM workspaces w WHERE w.id = s.workspace_id))
           ELSE s.expires_at END,
         released_at = CASE WHEN $9 THEN now() ELSE s.released_at END,
         -- The pod has the session's secrets once it is RUNNING; an ended session needs them no more.
         config = CASE WHEN $2 IN ('RUNNING','COMPLETED','EXPIRED','ERRORED') THEN s.config - 'sealed'
                       ELSE s.config END,
         release_reason = COALESCE($6, s.release_reason),
         error = COALESCE($7, s.error)
       FROM old WHERE s.id = old.id AND old.status = ANY($3)
       RETURNING s.*, old.status AS from_status),
     tr AS (INSERT INTO session_transitions (session_id, from_status, to_status, reason, actor)
            SELECT id, from_status, status, $4, $10 FROM upd),
     au AS (INSERT INTO audit_log (id, workspace_id, class, actor, action, target_type, target_id, detail)
            SELECT $11, workspace_id, $12, $10, $13, 'session', id,
                   $14::jsonb || jsonb_build_object('from', from_status, 'to', status, 'reason', $4::text)
              FROM upd)
     SELECT * FROM upd`,
    [
      t.id,
      t.to,
      t.from,
      t.reason ?? t.releaseReason ?? null,
      t.podId ?? null,
      t.releaseReason ?? null,
      t.error ?? null,
      t.startClock ?? false,
      terminal,
      t.actor,
      t.audit?.id ?? newId(),
      t.audit?.class ?? 'system',
      t.audit?.action ?? transitionAction(t.to),
      JSON.stringify(t.audit?.detail ?? {}),
      t.workspaceId ?? null,
    ],
  );
  return rows[0] && toSession(rows[0]);
}

export interface TransitionRecord {
  /** The transition's serial number (its position in the session's history; a page cursor). */
  seq: string;
  from: SessionStatus | null;
  to: SessionStatus;
  reason: string | null;
  actor: string | null;
  at: Date;
}

/** A session's transitions, oldest first, after `afterSeq` (a previous page's last), `limit` rows. */
export async function listTransitions(
  q: Queryable,
  sessionId: string,
  page: { afterSeq?: string; limit: number } = { limit: 1000 },
): Promise<TransitionRecord[]> {
  const { rows } = await q.query<{
    id: string;
    from_status: SessionStatus | null;
    to_status: SessionStatus;
    reason: string | null;
    actor: string | null;
    at: Date;
  }>(
    `SELECT id, from_status, to_status, reason, actor, at FROM session_transitions
      WHERE session_id = $1 AND ($2::bigint IS NULL OR id > $2) ORDER BY id LIMIT $3`,
    [sessionId, page.afterSeq ?? null, page.limit],
  );
  return rows.map((r) => ({
    seq: String(r.id),
    from: r.from_status,
    to: r.to_status,
    reason: r.reason,
    actor: r.actor,
    at: r.at,
  }));
}
