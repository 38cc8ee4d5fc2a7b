/** A workspace with its settings and effective limits, as the API, the CLI's --json and the dashboard show it. */
import type { WorkspaceSettings } from '../db/workspace-settings.repository.ts';
import { limitsResource, type WorkspaceResource } from '../domain/workspace-limits.ts';

export function workspaceResource(w: WorkspaceSettings): WorkspaceResource {
  return {
    id: w.id,
    name: w.name,
    recording_retention_days: w.recordingRetentionDays,
    limits: limitsResource(w.limits),
    created_at: w.createdAt.toISOString(),
  };
}
