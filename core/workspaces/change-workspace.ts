/**
 * The one way a workspace's settings change (API and CLI): operators' limits and its owners'
 * recording_retention_days. Postgres is updated and an audit row appended in one transaction.
 */
import { withTransaction, type Database, type Queryable } from '../db/database.ts';
import { appendAudit, type AuditClass } from '../db/audit.repository.ts';
import {
  getWorkspaceSettings,
  setRecordingRetention,
  updateWorkspaceLimits,
  type LimitsPatch,
  type WorkspaceSettings,
} from '../db/workspace-settings.repository.ts';
import type { WorkspaceLimits } from '../domain/workspace-limits.ts';

export interface WorkspaceChangeActor {
  /** API key id, or "cli". */
  id: string;
  class: AuditClass;
}

type Change = (tx: Queryable) => Promise<WorkspaceSettings | undefined>;

async function changeAudited(
  db: Database,
  workspaceId: string,
  actor: WorkspaceChangeActor,
  action: string,
  detail: Record<string, number | string | null>,
  change: Change,
): Promise<WorkspaceSettings | undefined> {
  return withTransaction(db, async (tx) => {
    const after = await change(tx);
    if (after) {
      await appendAudit(tx, {
        workspaceId,
        class: actor.class,
        actor: actor.id,
        action,
        targetType: 'workspace',
        targetId: workspaceId,
        detail,
      });
    }
    return after;
  });
}

/** Sets limits (null: back to the installation default); undefined when there is no such workspace. */
export async function changeWorkspaceLimits(
  deps: { db: Database; defaults: WorkspaceLimits },
  workspaceId: string,
  patch: LimitsPatch,
  actor: WorkspaceChangeActor,
): Promise<WorkspaceSettings | undefined> {
  return changeAudited(deps.db, workspaceId, actor, 'workspace.limits.update', { ...patch }, (tx) =>
    updateWorkspaceLimits(tx, workspaceId, patch, deps.defaults),
  );
}

export async function changeRecordingRetention(
  deps: { db: Database; defaults: WorkspaceLimits },
  workspaceId: string,
  days: number,
  actor: WorkspaceChangeActor,
): Promise<WorkspaceSettings | undefined> {
  const before = await getWorkspaceSettings(deps.db, workspaceId, deps.defaults);
  if (!before) return undefined;
  return changeAudited(
    deps.db,
    workspaceId,
    actor,
    'workspace.settings.update',
    { recording_retention_days: days, previous_recording_retention_days: before.recordingRetentionDays },
    (tx) => setRecordingRetention(tx, workspaceId, days, deps.defaults),
  );
}
