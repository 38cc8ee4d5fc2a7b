/** Idempotency keys: per workspace, per key, a 24-hour rolling window. */
import type { Queryable } from './database.ts';

export const IDEMPOTENCY_WINDOW_HOURS = 24;

/** The session created under this key within the window, if any. */
export async function findIdempotentSession(
  q: Queryable,
  workspaceId: string,
  key: string,
): Promise<string | undefined> {
  const { rows } = await q.query<{ session_id: string }>(
    `SELECT session_id FROM idempotency_keys
      WHERE workspace_id = $1 AND key = $2 AND created_at > now() - make_interval(hours => $3)`,
    [workspaceId, key, IDEMPOTENCY_WINDOW_HOURS],
  );
  return rows[0]?.session_id;
}

/**
 * Claims the key for a new session inside the creating transaction. Returns false when another
 * request holds it already: a concurrent duplicate waits on the row lock here and then loses.
 * A key older than the window is free again.
 */
export async function claimIdempotencyKey(
  q: Queryable,
  workspaceId: string,
  key: string,
  sessionId: string,
): Promise<boolean> {
  const { rowCount } = await q.query(
    `INSERT INTO idempotency_keys (workspace_id, key, session_id) VALUES ($1, $2, $3)
     ON CONFLICT (workspace_id, key) DO UPDATE SET session_id = EXCLUDED.session_id, created_at = now()
       WHERE idempotency_keys.created_at <= now() - make_interval(hours => $4)`,
    [workspaceId, key, sessionId, IDEMPOTENCY_WINDOW_HOURS],
  );
  return rowCount === 1;
}
