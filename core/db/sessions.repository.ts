/** Sessions and their append-only transitions. Every status write is a compare-and-set. */
import type { Queryable } from './database.ts';
import { IDEMPOTENCY_WINDOW_HOURS } from './idempotency.repository.ts';
import type { AuditClass } from './audit.repository.ts';
import type { ReleaseReason, SessionStatus } from '../domain/session-states.ts';
import type { CreateSessionBody, RestoredState } from '../domain/session.schema.ts';

/** What the request carried into the browser; stored whole, never returned whole (it holds secrets). */
export type SessionConfig = Pick<
  CreateSessionBody,
  'viewport' | 'user_agent' | 'proxy' | 'profile_id' | 'profile_version' | 'storage_state' | 'recording'
>;

export interface Session {
  id: string;
  workspaceId: string;
  pool: string;
  status: SessionStatus;
  region: string;
  runtimeKind: string;
  timeoutSeconds: number;
  keepAliveSeconds: number;
  config: SessionConfig;
  labels: Record<string, string>;
  podId: string | null;
  createdBy: string | null;
  createdAt: Date;
  startedAt: Date | null;
  expiresAt: Date;
  releasedAt: Date | null;
  releaseReason: ReleaseReason | null;
  error: string | null;
  /** Counts of what was restored into the browser (never values); null when nothing was. */
  restoredState: RestoredState | null;
}

export interface NewSession {
  id: string;
  workspaceId: string;
  pool: string;
  region: string;
  runtimeKind: string;
  timeoutSeconds: number;
  keepAliveSeconds: number;
  config: SessionConfig;
  labels: Record<string, string>;
  createdBy: string;
}

interface SessionRow {
  id: string;
  workspace_id: string;
  pool: string;
  status: SessionStatus;
  region: string;
  runtime_kind: string;
  timeout_seconds: number;
  keep_alive_seconds: number;
  config: SessionConfig;
  labels: Record<string, string>;
  pod_id: string | null;
  created_by: string | null;
  created_at: Date;
  started_at: Date | null;
  expires_at: Date;
  released_at: Date | null;
  release_reason: ReleaseReason | null;
  error: string | null;
  restored_state: RestoredState | null;
}

function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    pool: row.pool,
    status: row.status,
    region: row.region,
    runtimeKind: row.runtime_kind,
    timeoutSeconds: row.timeout_seconds,
    keepAliveSeconds: row.keep_alive_seconds,
    config: row.config,
    labels: row.labels,
    podId: row.pod_id,
    createdBy: row.created_by,
    createdAt: row.created_at,
    startedAt: row.started_at,
    expiresAt: row.expires_at,
    releasedAt: row.released_at,
    releaseReason: row.release_reason,
    error: row.error,
    restoredState: row.restored_state ?? null,
  };
}

/**
 * Creates a QUEUED session in ONE statement (so one round trip and one commit): claims the
 * Idempotency-Key, inserts the session, its first transition and the `session.create` audit row.
 * Returns undefined when the key is taken: a concurrent duplicate waits on the key's row lock and
 * then inserts nothing. `expires_at` is provisional until PROVISIONING.
 */
export async function insertSession(
  q: Queryable,
  s: NewSession,
  claim: { idempotencyKey: string; auditId: string; auditDetail: Record<string, string> },
): Promise<Session | undefined> {
  const { rows } = await q.query<SessionRow>(
    `WITH claim AS (
       INSERT INTO idempotency_keys (workspace_id, key, session_id) VALUES ($2, $11, $1)
       ON CONFLICT (workspace_id, key) DO UPDATE SET session_id = EXCLUDED.session_id, created_at = now()
         WHERE idempotency_keys.created_at <= now() - make_interval(hours => $12)
       RETURNING session_id),
     ins AS (
       INSERT INTO sessions (id, workspace_id, pool, status, region, runtime_kind, timeout_seconds,
                             keep_alive_seconds, config, labels, created_by, expires_at)
       SELECT $1, $2, $3, 'QUEUED', $4, $5, $6::int, $7, $8, $9, $10, now() + make_interval(secs => $6::int)
         FROM claim
       RETURNING *),
     tr AS (INSERT INTO session_transitions (session_id, from_status, to_status, actor)
            SELECT id, NULL, 'QUEUED', $10 FROM ins),
     au AS (INSERT INTO audit_log (id, workspace_id, class, actor, action, target_type, target_id, detail)
            SELECT $13, workspace_id, 'tenant', $10, 'session.create', 'session', id, $14 FROM ins)
     SELECT * FROM ins`,
    [
      s.id,
      s.workspaceId,
      s.pool,
      s.region,
      s.runtimeKind,
      s.timeoutSeconds,
      s.keepAliveSeconds,
      JSON.stringify(s.config),
      JSON.stringify(s.labels),
      s.createdBy,
      claim.idempotencyKey,
      IDEMPOTENCY_WINDOW_HOURS,
      claim.auditId,
      JSON.stringify(claim.auditDetail),
    ],
  );
  return rows[0] && toSession(rows[0]);
}

export async function getSession(q: Queryable, id: string): Promise<Session | undefined> {
  const { rows } = await q.query<SessionRow>('SELECT * FROM sessions WHERE id = $1', [id]);
  return rows[0] && toSession(rows[0]);
}

/** A session as its workspace sees it: another workspace's session does not exist (404, not 403). */
export async function getWorkspaceSession(
  q: Queryable,
  workspaceId: string,
  id: string,
): Promise<Session | undefined> {
  const { rows } = await q.query<SessionRow>('SELECT * FROM sessions WHERE id = $1 AND workspace_id = $2', [
    id,
    workspaceId,
  ]);
  return rows[0] && toSession(rows[0]);
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
  /** PROVISIONING: start the clock (`started_at = now`, `expires_at = now + timeout_seconds`). */
  startClock?: boolean;
  /** An audit row written by the same statement, only when the transition happens. */
  audit?: TransitionAudit;
}

export interface TransitionAudit {
  id: string;
  class: AuditClass;
  action: string;
  detail: Record<string, string>;
}

/**
 * Moves a session from one of `from` to `to` and appends the transition (and the audit row, if
 * any), in one statement.
 * Returns the updated session, or undefined when the session was not in an expected state (a lost race).
 */
export async function transitionSession(q: Queryable, t: TransitionRequest): Promise<Session | undefined> {
  const terminal = t.releaseReason !== undefined;
  const { rows } = await q.query<SessionRow>(
    `WITH old AS (SELECT id, status FROM sessions WHERE id = $1 FOR UPDATE),
     upd AS (
       UPDATE sessions s SET
         status = $2,
         pod_id = COALESCE($5, s.pod_id),
         started_at = CASE WHEN $8 THEN now() ELSE s.started_at END,
         expires_at = CASE WHEN $8 THEN now() + make_interval(secs => s.timeout_seconds) ELSE s.expires_at END,
         released_at = CASE WHEN $9 THEN now() ELSE s.released_at END,
         release_reason = COALESCE($6, s.release_reason),
         error = COALESCE($7, s.error)
       FROM old WHERE s.id = old.id AND old.status = ANY($3)
       RETURNING s.*, old.status AS from_status),
     tr AS (INSERT INTO session_transitions (session_id, from_status, to_status, reason, actor)
            SELECT id, from_status, status, $4, $10 FROM upd),
     au AS (INSERT INTO audit_log (id, workspace_id, class, actor, action, target_type, target_id, detail)
            SELECT $11, workspace_id, $12, $10, $13, 'session', id, $14 FROM upd WHERE $11::text IS NOT NULL)
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
      t.audit?.id ?? null,
      t.audit?.class ?? null,
      t.audit?.action ?? null,
      JSON.stringify(t.audit?.detail ?? {}),
    ],
  );
  return rows[0] && toSession(rows[0]);
}

/** Records what provisioning restored into the browser; only while the session is PROVISIONING. */
export async function setRestoredState(q: Queryable, id: string, restored: RestoredState): Promise<void> {
  await q.query(`UPDATE sessions SET restored_state = $2 WHERE id = $1 AND status = 'PROVISIONING'`, [
    id,
    JSON.stringify(restored),
  ]);
}

/** Live (not ended) session ids of a pool, to rebuild capacity counters from the source of truth. */
export interface TransitionRecord {
  from: SessionStatus | null;
  to: SessionStatus;
  reason: string | null;
  actor: string | null;
  at: Date;
}

export async function listTransitions(q: Queryable, sessionId: string): Promise<TransitionRecord[]> {
  const { rows } = await q.query<{
    from_status: SessionStatus | null;
    to_status: SessionStatus;
    reason: string | null;
    actor: string | null;
    at: Date;
  }>(
    'SELECT from_status, to_status, reason, actor, at FROM session_transitions WHERE session_id = $1 ORDER BY id',
    [sessionId],
  );
  return rows.map((r) => ({
    from: r.from_status,
    to: r.to_status,
    reason: r.reason,
    actor: r.actor,
    at: r.at,
  }));
}

/** The soonest a live session of the pool is due to end (for Retry-After), if any. */
export async function earliestExpiry(q: Queryable, pool: string): Promise<Date | undefined> {
  const { rows } = await q.query<{ at: Date | null }>(
    `SELECT min(expires_at) AS at FROM sessions WHERE pool = $1 AND status IN ('QUEUED','PROVISIONING','RUNNING')`,
    [pool],
  );
  return rows[0]?.at ?? undefined;
}

export interface SessionFilter {
  workspaceId: string;
  /** Return sessions with ids after this one (the cursor). */
  afterId?: string;
  statuses?: SessionStatus[];
  labels?: Record<string, string>;
  /** Rows to fetch (the caller asks one more than its page size). */
  limit: number;
}

export async function listSessions(q: Queryable, f: SessionFilter): Promise<Session[]> {
  const { rows } = await q.query<SessionRow>(
    `SELECT * FROM sessions
      WHERE workspace_id = $1
        AND ($2::text IS NULL OR id > $2)
        AND ($3::text[] IS NULL OR status = ANY($3))
        AND labels @> $4::jsonb
      ORDER BY id
      LIMIT $5`,
    [f.workspaceId, f.afterId ?? null, f.statuses ?? null, JSON.stringify(f.labels ?? {}), f.limit],
  );
  return rows.map(toSession);
}

/** Moves expires_at forward by `seconds` for a live session; undefined when it has ended. */
export async function extendSession(q: Queryable, id: string, seconds: number): Promise<Session | undefined> {
  const { rows } = await q.query<SessionRow>(
    `UPDATE sessions SET expires_at = expires_at + make_interval(secs => $2::int)
      WHERE id = $1 AND status IN ('QUEUED','PROVISIONING','RUNNING') RETURNING *`,
    [id, seconds],
  );
  return rows[0] && toSession(rows[0]);
}

/** Live sessions of a pool by status (QUEUED, PROVISIONING, RUNNING). */
export async function liveStatusCounts(
  q: Queryable,
  pool: string,
): Promise<{ queued: number; provisioning: number; running: number }> {
  const { rows } = await q.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM sessions
      WHERE pool = $1 AND status IN ('QUEUED','PROVISIONING','RUNNING') GROUP BY status`,
    [pool],
  );
  const of = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
  return { queued: of('QUEUED'), provisioning: of('PROVISIONING'), running: of('RUNNING') };
}

/** A pool's live sessions (QUEUED, PROVISIONING, RUNNING) in one query. */
export async function listLiveSessions(q: Queryable, pool: string): Promise<Session[]> {
  const { rows } = await q.query<SessionRow>(
    `SELECT * FROM sessions WHERE pool = $1 AND status IN ('QUEUED','PROVISIONING','RUNNING')`,
    [pool],
  );
  return rows.map(toSession);
}
