/**
 * recording-sweep: deletes recordings past their `delete_after` (the workspace's retention, fixed at
 * creation) from the artifact store, marks their rows deleted and audits each deletion (class system,
 * action `recording.deleted`). Runs every VENTUS_RECORDING_SWEEP_MS on the maintenance queue; a
 * deletion interrupted between the store and the row is simply repeated by the next run.
 */
import { appendAudit } from '../core/db/audit.repository.ts';
import { withTransaction } from '../core/db/database.ts';
import { listDueRecordings, markRecordingDeleted } from '../core/db/recordings.repository.ts';
import type { ArtifactStore } from '../core/artifacts/artifact-store.ts';
import type { Services } from '../core/services.ts';
import type { JobContext } from './processor.ts';

/** Rows per batch; a run continues until none are due. */
const BATCH = 100;

export type RecordingSweepDeps = Pick<Services, 'db'>;

export function recordingSweepProcessor(services: RecordingSweepDeps, store: ArtifactStore) {
  return async ({ log }: JobContext<'recording-sweep'>): Promise<void> => {
    let deleted = 0;
    for (;;) {
      const due = await listDueRecordings(services.db, BATCH);
      for (const r of due) {
        if (r.storageKey) await store.delete(r.storageKey);
        const audited = await withTransaction(services.db, async (tx) => {
          if (!(await markRecordingDeleted(tx, r.sessionId))) return false;
          await appendAudit(tx, {
            workspaceId: r.workspaceId,
            class: 'system',
            actor: 'workers',
            action: 'recording.deleted',
            targetType: 'session',
            targetId: r.sessionId,
            detail: {
              reason: 'retention',
              size_bytes: r.sizeBytes,
              created_at: r.createdAt.toISOString(),
              delete_after: r.deleteAfter.toISOString(),
            },
          });
          return true;
        });
        if (audited) deleted++;
      }
      if (due.length < BATCH) break;
    }
    if (deleted > 0) log.info({ deleted }, 'recordings past retention deleted');
  };
}
