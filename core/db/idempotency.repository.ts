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

// The key is claimed by insertSession (sessions.repository.ts), in the statement that creates the session.
