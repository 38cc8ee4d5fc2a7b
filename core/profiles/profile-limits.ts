/**
 * A workspace's profile limits, enforced inside the transaction of every profile write (create,
 * append, snapshot): the workspace row is locked first, so racing writers are counted one after the
 * other; a new profile past `profiles` is refused; after the write the profile keeps its newest
 * `versions_per_profile` versions (older ones are deleted unless a live session pinned them); and if
 * the workspace then stores more than `stored_bytes`, the write is refused and rolled back.
 */
import type { Queryable } from '../db/database.ts';
import { ProblemError } from '../domain/problems.ts';
import type { WorkspaceLimits } from '../domain/workspace-limits.ts';

/** Locks the workspace for this transaction's profile write; refuses a new profile past the limit. */
export async function beginProfileWrite(
  tx: Queryable,
  workspaceId: string,
  limits: WorkspaceLimits,
  write: { newProfile: boolean },
): Promise<void> {
  await tx.query('SELECT 1 FROM workspaces WHERE id = $1 FOR UPDATE', [workspaceId]);
  if (!write.newProfile) return;
  const { rows } = await tx.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM profiles WHERE workspace_id = $1 AND deleted_at IS NULL',
    [workspaceId],
  );
  if (rows[0]!.n >= limits.profiles) {
    throw new ProblemError('workspace-limit-reached', {
      detail: `This workspace has ${rows[0]!.n} profiles, its limit of ${limits.profiles}; delete one first`,
      extensions: { limit: limits.profiles },
    });
  }
}

/**
 * After the write: prunes the profile's oldest versions past the limit, then refuses (throws, so the
 * transaction rolls back) when the workspace stores more bytes than it may. Returns how many versions
 * were pruned.
 */
export async function finishProfileWrite(
  tx: Queryable,
  workspaceId: string,
  profileId: string,
  limits: WorkspaceLimits,
): Promise<number> {
  const pruned = await tx.query(
    `DELETE FROM profile_versions v
      USING profiles p
      WHERE v.profile_id = $1 AND p.id = v.profile_id AND v.version <= p.latest_version - $2
        AND NOT EXISTS (
          SELECT 1 FROM sessions s
           WHERE s.workspace_id = p.workspace_id AND s.status IN ('QUEUED','PROVISIONING','RUNNING')
             AND s.config->>'profile_id' = v.profile_id
             AND (s.config->>'profile_version')::int = v.version)`,
    [profileId, limits.versionsPerProfile],
  );
  const stored = await storedProfileBytes(tx, workspaceId);
  if (stored > limits.storedBytes) {
    throw new ProblemError('workspace-limit-reached', {
      detail:
        `This write would bring the workspace's stored profile data to ${stored} bytes, past its limit of ` +
        `${limits.storedBytes}; delete profiles (or store less) first`,
      extensions: { limit: limits.storedBytes },
    });
  }
  return pruned.rowCount ?? 0;
}

/** Bytes of profile data a workspace stores: every kept version of its live profiles, as sealed. */
export async function storedProfileBytes(q: Queryable, workspaceId: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT coalesce(sum(octet_length(v.storage_state::text)), 0)::bigint AS n
       FROM profile_versions v JOIN profiles p ON p.id = v.profile_id
      WHERE p.workspace_id = $1 AND p.deleted_at IS NULL`,
    [workspaceId],
  );
  return rows[0]!.n;
}
