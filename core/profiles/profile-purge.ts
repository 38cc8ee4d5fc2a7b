/**
 * A deleted profile's data (its versions: cookies and localStorage, often PHI) is kept for a grace
 * period (a mistaken delete can still be undone by support) and then purged: the versions and the
 * profile row are deleted, each purge audited (class system, `profile.purged`). A profile a live
 * session still pins waits until that session ends. Run by the `profile-purge` job on a schedule.
 */
import { withTransaction, type Database } from '../db/database.ts';
import { appendAudit } from '../db/audit.repository.ts';

export interface PurgedProfile {
  profileId: string;
  workspaceId: string;
  versions: number;
}

const BATCH = 100;

/** Purges every profile deleted more than `graceMs` before `now` (the clock; a test moves it). */
export async function purgeDeletedProfiles(
  deps: { db: Database; graceMs: number },
  now = new Date(),
): Promise<PurgedProfile[]> {
  const purged: PurgedProfile[] = [];
  for (;;) {
    const { rows } = await deps.db.query<{ id: string; workspace_id: string; deleted_at: Date }>(
      `SELECT p.id, p.workspace_id, p.deleted_at FROM profiles p
        WHERE p.deleted_at IS NOT NULL AND p.deleted_at <= $1::timestamptz - make_interval(secs => $2::double precision)
          AND NOT EXISTS (SELECT 1 FROM sessions s
                           WHERE s.workspace_id = p.workspace_id AND s.status IN ('QUEUED','PROVISIONING','RUNNING')
                             AND s.config->>'profile_id' = p.id)
          AND p.id > $3
        ORDER BY p.id LIMIT $4`,
      [now, deps.graceMs / 1000, purged.at(-1)?.profileId ?? '', BATCH],
    );
    for (const row of rows) {
      const versions = await withTransaction(deps.db, async (tx) => {
        const gone = await tx.query('DELETE FROM profile_versions WHERE profile_id = $1', [row.id]);
        const profile = await tx.query('DELETE FROM profiles WHERE id = $1 AND deleted_at IS NOT NULL', [
          row.id,
        ]);
        if ((profile.rowCount ?? 0) === 0) return undefined;
        await appendAudit(tx, {
          workspaceId: row.workspace_id,
          class: 'system',
          actor: 'workers',
          action: 'profile.purged',
          targetType: 'profile',
          targetId: row.id,
          detail: { versions: gone.rowCount ?? 0, deleted_at: row.deleted_at.toISOString() },
        });
        return gone.rowCount ?? 0;
      });
      if (versions !== undefined) purged.push({ profileId: row.id, workspaceId: row.workspace_id, versions });
    }
    if (rows.length < BATCH) return purged;
  }
}
