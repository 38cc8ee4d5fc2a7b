/**
 * The control plane's side of a pod's recording (runtime-image/agent/pod.recording.ts): stop and
 * encode it, then stream the WebM out. Any driver whose pods run our agent API answers these.
 */
import type { Readable } from 'node:stream';
import { agentRequest, type AgentRef, type PodAgentAccess } from './agent.client.ts';

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
  access: PodAgentAccess,
  pod: AgentRef,
  timeoutMs = 600_000,
): Promise<PodRecordingSummary | undefined | null> {
  // Encoding runs now, on the pod: a long session's frames take a while.
  const res = await agentRequest(access, pod, '/recording/stop', { method: 'POST', timeoutMs });
  if (res.status === 404) {
    res.discard();
    return null;
  }
  if (res.status === 204) {
    res.discard();
    return undefined;
  }
  if (res.status !== 200)
    throw new Error(`pod ${pod.id}: POST /recording/stop answered ${res.status} ${await res.text()}`);
  return res.json<PodRecordingSummary>();
}

/** GET /recording: the encoded WebM as a stream (after stopPodRecording). */
export async function downloadPodRecording(
  access: PodAgentAccess,
  pod: AgentRef,
  timeoutMs = 600_000,
): Promise<Readable> {
  const res = await agentRequest(access, pod, '/recording', { timeoutMs });
  if (res.status !== 200) {
    res.discard();
    throw new Error(`pod ${pod.id}: GET /recording answered ${res.status}`);
  }
  return res.body;
}
