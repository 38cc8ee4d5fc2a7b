/**
 * At teardown, before the pod is deleted: stop the session's recording on the pod, copy the WebM into
 * the artifact store and record it in Postgres. Best effort by design: a recording that cannot be
 * saved (the browser crashed, the pod is gone, ffmpeg failed) is recorded as `failed` with the reason,
 * and the pod is deleted all the same (no disk outlives a session). Only a failure to write the row
 * fails the job, so a retry tries again.
 */
import type { Session } from '../db/sessions.repository.ts';
import { getRecording, insertRecording } from '../db/recordings.repository.ts';
import { recordingKey, type ArtifactStore } from '../artifacts/artifact-store.ts';
import type { RuntimeDriver } from '../runtime/driver.ts';
import { downloadPodRecording, stopPodRecording } from '../runtime/recording-control.client.ts';
import type { Services } from '../services.ts';
import type { Logger } from '../logging/logger.ts';

const CONTENT_TYPE = 'video/webm';

export interface CollectDeps {
  /** Postgres for the recording row; the agent's key to stop the recording and download it. */
  services: Pick<Services, 'agentAccess' | 'db'>;
  driver: RuntimeDriver;
  store: ArtifactStore;
}

async function saveFromPod(
  deps: CollectDeps,
  session: Session,
  podId: string | null | undefined,
): Promise<{ error: string } | { key: string; size: number; durationSeconds: number; frames: number }> {
  const pod = podId ? await deps.driver.getPod(podId) : undefined;
  if (!pod?.alive) return { error: 'The browser was gone before its recording could be saved' };
  const summary = await stopPodRecording(deps.services.agentAccess, pod);
  if (summary === null) return { error: 'This runtime did not record the session' };
  if (summary === undefined) return { error: 'Nothing was painted while the session was recorded' };
  const key = recordingKey(session.workspaceId, session.id);
  const { size } = await deps.store.put(
    key,
    await downloadPodRecording(deps.services.agentAccess, pod),
    CONTENT_TYPE,
  );
  return { key, size, durationSeconds: summary.durationSeconds, frames: summary.frames };
}

/** Collects the recording of an ended session, once; a no-op for sessions that were not recorded. */
export async function collectRecording(
  deps: CollectDeps,
  session: Session,
  podId: string | null | undefined,
  log: Logger,
): Promise<void> {
  if (!session.config.recording?.enabled) return;
  if (await getRecording(deps.services.db, session.id)) return; // a retried teardown
  let saved: Awaited<ReturnType<typeof saveFromPod>>;
  try {
    saved = await saveFromPod(deps, session, podId);
  } catch (err) {
    log.warn({ err }, 'saving the recording failed');
    saved = { error: 'The recording could not be saved' };
  }
  const base = { sessionId: session.id, workspaceId: session.workspaceId };
  if ('error' in saved) {
    await insertRecording(deps.services.db, { ...base, status: 'failed', error: saved.error });
    log.warn({ reason: saved.error }, 'no recording artifact');
    return;
  }
  await insertRecording(deps.services.db, {
    ...base,
    status: 'available',
    storageKey: saved.key,
    contentType: CONTENT_TYPE,
    sizeBytes: saved.size,
    durationSeconds: saved.durationSeconds,
    frames: saved.frames,
  });
  log.info({ bytes: saved.size, seconds: saved.durationSeconds }, 'recording stored');
}
