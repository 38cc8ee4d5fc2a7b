/**
 * The control plane's side of a pod's recording (pod-agent/pod.recording.ts): stop and encode it,
 * then stream the WebM out. Any driver whose pods run our agent API answers these.
 */
import { Readable } from 'node:stream';
import type { Pod } from './driver.ts';

export interface PodRecordingSummary {
  bytes: number;
  durationSeconds: number;
  frames: number;
}

/**
 * POST /recording/stop: the summary, `undefined` when nothing was painted, or `null` when the pod does
 * not record (its session did not ask for it, or the runtime cannot, like the sim driver's pods).
 */
export async function stopPodRecording(
  pod: Pod,
  timeoutMs = 600_000,
): Promise<PodRecordingSummary | undefined | null> {
  // Encoding runs now, on the pod: a long session's frames take a while.
  const res = await fetch(`${pod.controlUrl}/recording/stop`, {
    method: 'POST',
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (res.status === 404) {
    await res.body?.cancel();
    return null;
  }
  if (res.status === 204) return undefined;
  if (!res.ok)
    throw new Error(`pod ${pod.id}: POST /recording/stop answered ${res.status} ${await res.text()}`);
  return (await res.json()) as PodRecordingSummary;
}

/** GET /recording: the encoded WebM as a stream (after stopPodRecording). */
export async function downloadPodRecording(pod: Pod, timeoutMs = 600_000): Promise<Readable> {
  const res = await fetch(`${pod.controlUrl}/recording`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok || !res.body) throw new Error(`pod ${pod.id}: GET /recording answered ${res.status}`);
  return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
}
