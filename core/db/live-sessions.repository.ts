/** Live sessions (QUEUED, PROVISIONING, RUNNING) of a pool or workspace: counts, lists, soonest expiry. */
import type { Queryable } from './database.ts';
import { toSession, type Session, type SessionRow } from './sessions.repository.ts';

/** The soonest a live session of the pool (or the workspace) is due to end (for Retry-After), if any. */
export async function earliestExpiry(
  q: Queryable,
  of: { pool: string } | { workspaceId: string },
): Promise<Date | undefined> {
  const column = 'pool' in of ? 'pool' : 'workspace_id';
  const { rows } = await q.query<{ at: Date | null }>(
    `SELECT min(expires_at) AS at FROM sessions WHERE ${column} = $1 AND status IN ('QUEUED','PROVISIONING','RUNNING')`,
    ['pool' in of ? of.pool : of.workspaceId],
  );
  return rows[0]?.at ?? undefined;
}

/** A workspace's live sessions in every pool: what its share of admission is rebuilt from. */
export async function listWorkspaceLiveSessions(
  q: Queryable,
  workspaceId: string,
): Promise<{ id: string; pool: string; admittedAtMs: number }[]> {
  const { rows } = await q.query<{ id: string; pool: string; created_at: Date }>(
    `SELECT id, pool, created_at FROM sessions
      WHERE workspace_id = $1 AND status IN ('QUEUED','PROVISIONING','RUNNING')`,
    [workspaceId],
  );
  return rows.map((r) => ({ id: r.id, pool: r.pool, admittedAtMs: r.created_at.getTime() }));
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
