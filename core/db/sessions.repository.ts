/**
 * Sessions: the row, creating one, reading one or a page, and the writes that are not status moves
 * (extend, restored state, sealing). Status moves are in session-transitions.repository.ts, the
 * live sessions of a pool or workspace in live-sessions.repository.ts.
 */
import type { Queryable } from './database.ts';
import { IDEMPOTENCY_WINDOW_HOURS } from './idempotency.repository.ts';
import { isTerminal, type ReleaseReason, type SessionStatus } from '../domain/session-states.ts';
import type { CreateSessionBody, RestoredState } from '../domain/session.schema.ts';
import type { SealedState } from '../security/profile-cipher.ts';

/**
 * What the request carried into the browser. Its secrets (storage_state, proxy password) are stored
 * only sealed in `sealed` (core/security/session-secrets.ts) and only until the pod has them; the
 * plaintext fields appear only in rows written before sealing shipped.
 */
export type SessionConfig = Pick<
  CreateSessionBody,
  'viewport' | 'user_agent' | 'proxy' | 'profile_id' | 'profile_version' | 'storage_state' | 'recording'
> & { sealed?: SealedState };

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

/** A `sessions` row as pg returns it; the sibling session repositories map it with toSession. */
export interface SessionRow {
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

export function toSession(row: SessionRow): Session {
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
            SELECT $13, workspace_id, 'tenant', $10, 'session.create', 'session', id,
                   $14::jsonb || jsonb_build_object('from', NULL, 'to', 'QUEUED', 'reason', NULL) FROM ins)
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

/**
 * Seals the inline secrets of sessions written in plaintext before sealing shipped and still waiting
 * for their pod (migration 0008 dropped those of every other session). Idempotent and safe from
 * several processes: a row is rewritten only while it still holds plaintext. Returns how many.
 */
export async function sealPlaintextSessionSecrets(
  q: Queryable,
  seal: (id: string, config: SessionConfig) => SessionConfig,
): Promise<number> {
  const { rows } = await q.query<{ id: string; config: SessionConfig }>(
    `SELECT id, config FROM sessions
      WHERE status IN ('QUEUED','PROVISIONING') AND (config ? 'storage_state' OR config->'proxy' ? 'password')`,
  );
  let sealed = 0;
  for (const row of rows) {
    const res = await q.query(
      `UPDATE sessions SET config = $2::jsonb
        WHERE id = $1 AND (config ? 'storage_state' OR config->'proxy' ? 'password')`,
      [row.id, JSON.stringify(seal(row.id, row.config))],
    );
    sealed += res.rowCount ?? 0;
  }
  return sealed;
}

/** Records what provisioning restored into the browser; only while the session is PROVISIONING. */
export async function setRestoredState(q: Queryable, id: string, restored: RestoredState): Promise<void> {
  await q.query(`UPDATE sessions SET restored_state = $2 WHERE id = $1 AND status = 'PROVISIONING'`, [
    id,
    JSON.stringify(restored),
  ]);
}

export interface SessionFilter {
  workspaceId: string;
  /** Return sessions after this one in the list's order (the cursor). */
  afterId?: string;
  /** Newest first (ids descending); oldest first otherwise. */
  newestFirst?: boolean;
  statuses?: SessionStatus[];
  labels?: Record<string, string>;
  /** Rows to fetch (the caller asks one more than its page size). */
  limit: number;
}

export async function listSessions(q: Queryable, f: SessionFilter): Promise<Session[]> {
  // Two statements rather than a CASE, so each walks the (workspace_id, id) index in its direction.
  const [after, direction] = f.newestFirst ? ['<', 'DESC'] : ['>', 'ASC'];
  const { rows } = await q.query<SessionRow>(
    `SELECT * FROM sessions
      WHERE workspace_id = $1
        AND ($2::text IS NULL OR id ${after} $2)
        AND ($3::text[] IS NULL OR status = ANY($3))
        AND labels @> $4::jsonb
      ORDER BY id ${direction}
      LIMIT $5`,
    [f.workspaceId, f.afterId ?? null, f.statuses ?? null, JSON.stringify(f.labels ?? {}), f.limit],
  );
  return rows.map(toSession);
}

export type ExtendOutcome =
  | { kind: 'extended'; session: Session }
  | { kind: 'ended' }
  /** The move would pass the workspace's lifetime ceiling (created_at + limit): nothing changed. */
  | { kind: 'ceiling'; limitSeconds: number; ceiling: Date; remainingSeconds: number };

/**
 * Moves expires_at forward by `seconds` for a live session, unless that passes the lifetime ceiling
 * an operator set for its workspace (`created_at` + the limit, read now, so a newly set limit also
 * holds the sessions already running). Must run in a transaction: the row stays locked until commit.
 */
export async function extendSession(q: Queryable, id: string, seconds: number): Promise<ExtendOutcome> {
  const { rows } = await q.query<{
    status: SessionStatus;
    lim: number | null;
    ceiling: Date | null;
    left: number | null;
    fits: boolean;
  }>(
    `SELECT s.status, w.limit_session_lifetime_seconds AS lim,
            s.created_at + make_interval(secs => w.limit_session_lifetime_seconds) AS ceiling,
            floor(extract(epoch FROM s.created_at + make_interval(secs => w.limit_session_lifetime_seconds)
                                     - s.expires_at))::int AS left,
            w.limit_session_lifetime_seconds IS NULL OR s.expires_at + make_interval(secs => $2::int)
              <= s.created_at + make_interval(secs => w.limit_session_lifetime_seconds) AS fits
       FROM sessions s JOIN workspaces w ON w.id = s.workspace_id
      WHERE s.id = $1 FOR UPDATE OF s`,
    [id, seconds],
  );
  const row = rows[0];
  if (!row || isTerminal(row.status)) return { kind: 'ended' };
  if (!row.fits) {
    return {
      kind: 'ceiling',
      limitSeconds: row.lim!,
      ceiling: row.ceiling!,
      remainingSeconds: Math.max(0, row.left ?? 0),
    };
  }
  const updated = await q.query<SessionRow>(
    `UPDATE sessions SET expires_at = expires_at + make_interval(secs => $2::int) WHERE id = $1 RETURNING *`,
    [id, seconds],
  );
  return { kind: 'extended', session: toSession(updated.rows[0]!) };
}

/** Whether any session was ever created: none means a brand-new installation. */
export async function anySessionEver(q: Queryable): Promise<boolean> {
  const { rows } = await q.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM sessions) AS any');
  return rows[0]!.any;
}
