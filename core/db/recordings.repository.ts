/** Recording metadata (the artifact itself is in the artifact store under `storageKey`). */
import type { Queryable } from './database.ts';

export interface Recording {
  sessionId: string;
  workspaceId: string;
  status: 'available' | 'failed';
  storageKey: string | null;
  contentType: string;
  sizeBytes: number | null;
  durationSeconds: number | null;
  frames: number | null;
  error: string | null;
  createdAt: Date;
  deleteAfter: Date;
  deletedAt: Date | null;
}

interface RecordingRow {
  session_id: string;
  workspace_id: string;
  status: 'available' | 'failed';
  storage_key: string | null;
  content_type: string;
  size_bytes: number | null;
  duration_seconds: number | null;
  frames: number | null;
  error: string | null;
  created_at: Date;
  delete_after: Date;
  deleted_at: Date | null;
}

function toRecording(r: RecordingRow): Recording {
  return {
    sessionId: r.session_id,
    workspaceId: r.workspace_id,
    status: r.status,
    storageKey: r.storage_key,
    contentType: r.content_type,
    sizeBytes: r.size_bytes,
    durationSeconds: r.duration_seconds,
    frames: r.frames,
    error: r.error,
    createdAt: r.created_at,
    deleteAfter: r.delete_after,
    deletedAt: r.deleted_at,
  };
}

export type NewRecording =
  | {
      status: 'available';
      sessionId: string;
      workspaceId: string;
      storageKey: string;
      contentType: string;
      sizeBytes: number;
      durationSeconds: number;
      frames: number;
    }
  | { status: 'failed'; sessionId: string; workspaceId: string; error: string };

/**
 * Records a session's recording once (a retried teardown finds the row and does nothing). `delete_after`
 * is fixed now from the workspace's `recording_retention_days`.
 */
export async function insertRecording(q: Queryable, r: NewRecording): Promise<boolean> {
  const available = r.status === 'available';
  const { rowCount } = await q.query(
    `INSERT INTO recordings (session_id, workspace_id, status, storage_key, content_type, size_bytes,
                             duration_seconds, frames, error, delete_after)
     SELECT $1, w.id, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(days => w.recording_retention_days)
       FROM workspaces w WHERE w.id = $2
     ON CONFLICT (session_id) DO NOTHING`,
    [
      r.sessionId,
      r.workspaceId,
      r.status,
      available ? r.storageKey : null,
      available ? r.contentType : 'video/webm',
      available ? r.sizeBytes : null,
      available ? r.durationSeconds : null,
      available ? r.frames : null,
      available ? null : r.error,
    ],
  );
  return (rowCount ?? 0) > 0;
}

export async function getRecording(q: Queryable, sessionId: string): Promise<Recording | undefined> {
  const { rows } = await q.query<RecordingRow>('SELECT * FROM recordings WHERE session_id = $1', [sessionId]);
  return rows[0] && toRecording(rows[0]);
}

/** Available recordings past their `delete_after`, oldest first. */
export async function listDueRecordings(q: Queryable, limit: number): Promise<Recording[]> {
  const { rows } = await q.query<RecordingRow>(
    `SELECT * FROM recordings
      WHERE status = 'available' AND deleted_at IS NULL AND delete_after <= now()
      ORDER BY delete_after LIMIT $1`,
    [limit],
  );
  return rows.map(toRecording);
}

/** Marks the recording deleted; false when another sweeper got there first. */
export async function markRecordingDeleted(q: Queryable, sessionId: string): Promise<boolean> {
  const { rowCount } = await q.query(
    'UPDATE recordings SET deleted_at = now() WHERE session_id = $1 AND deleted_at IS NULL',
    [sessionId],
  );
  return (rowCount ?? 0) > 0;
}
