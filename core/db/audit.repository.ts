/** The audit log: who did what, append-only. `detail` holds allowlisted fields only. */
import type { Queryable } from './database.ts';
import { newId } from '../domain/ids.ts';

export type AuditClass = 'tenant' | 'admin' | 'system';

export interface AuditEntry {
  workspaceId: string | null;
  class: AuditClass;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  detail?: Record<string, string | number | boolean | null>;
}

export async function appendAudit(q: Queryable, entry: AuditEntry): Promise<void> {
  await q.query(
    `INSERT INTO audit_log (id, workspace_id, class, actor, action, target_type, target_id, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      newId(),
      entry.workspaceId,
      entry.class,
      entry.actor,
      entry.action,
      entry.targetType,
      entry.targetId,
      JSON.stringify(entry.detail ?? {}),
    ],
  );
}

export interface AuditRecord extends AuditEntry {
  id: string;
  at: Date;
}

interface AuditRow {
  id: string;
  workspace_id: string | null;
  class: AuditClass;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  detail: Record<string, string | number | boolean | null>;
  at: Date;
}

function toRecord(r: AuditRow): AuditRecord {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    class: r.class,
    actor: r.actor,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    detail: r.detail,
    at: r.at,
  };
}

export async function listAuditForTarget(
  q: Queryable,
  targetType: string,
  targetId: string,
): Promise<AuditRecord[]> {
  const { rows } = await q.query<AuditRow>(
    'SELECT * FROM audit_log WHERE target_type = $1 AND target_id = $2 ORDER BY id',
    [targetType, targetId],
  );
  return rows.map(toRecord);
}

export interface AuditFilter {
  workspaceId: string;
  /** Continue with rows older than this id (the last id of the previous page). */
  beforeId?: string;
  targetType?: string;
  targetId?: string;
  action?: string;
  actor?: string;
  limit: number;
}

/**
 * One workspace's audit rows, newest first (by ULID id). Paging continues below the previous
 * page's last id, so rows inserted meanwhile (newer ids) never shift or repeat later pages.
 */
export async function listAudit(q: Queryable, f: AuditFilter): Promise<AuditRecord[]> {
  const { rows } = await q.query<AuditRow>(
    `SELECT * FROM audit_log
      WHERE workspace_id = $1
        AND ($2::text IS NULL OR id < $2)
        AND ($3::text IS NULL OR target_type = $3)
        AND ($4::text IS NULL OR target_id = $4)
        AND ($5::text IS NULL OR action = $5)
        AND ($6::text IS NULL OR actor = $6)
      ORDER BY id DESC
      LIMIT $7`,
    [
      f.workspaceId,
      f.beforeId ?? null,
      f.targetType ?? null,
      f.targetId ?? null,
      f.action ?? null,
      f.actor ?? null,
      f.limit,
    ],
  );
  return rows.map(toRecord);
}
