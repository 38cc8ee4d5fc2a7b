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

export async function listAuditForTarget(
  q: Queryable,
  targetType: string,
  targetId: string,
): Promise<AuditRecord[]> {
  const { rows } = await q.query<{
    id: string;
    workspace_id: string | null;
    class: AuditClass;
    actor: string;
    action: string;
    target_type: string;
    target_id: string;
    detail: Record<string, string | number | boolean | null>;
    at: Date;
  }>('SELECT * FROM audit_log WHERE target_type = $1 AND target_id = $2 ORDER BY id', [targetType, targetId]);
  return rows.map((r) => ({
    id: r.id,
    workspaceId: r.workspace_id,
    class: r.class,
    actor: r.actor,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    detail: r.detail,
    at: r.at,
  }));
}
