/** Calls to a pod's control endpoint, the same for every driver whose pods run our agent API. */
import { SessionConfigRejectedError } from './driver.ts';
import type { PodSessionConfig, PodStorageState, RestoredCounts } from './driver.ts';
import { agentRequest, type AgentRef, type AgentResponse, type PodAgentAccess } from './agent.client.ts';

async function failure(pod: AgentRef, what: string, res: AgentResponse): Promise<Error> {
  const body = await res.text().catch(() => '');
  return new Error(`pod ${pod.id}: ${what} answered ${res.status} ${body}`.trim());
}

/**
 * POST /session: the claim. Applies a session's settings inside the pod's browser (and the agent cuts
 * every connection opened before it). Resolves with the counts of what was restored when the config
 * carried a storage state (the agent answers 200 with them).
 */
export async function postSessionConfig(
  access: PodAgentAccess,
  pod: AgentRef,
  config: PodSessionConfig,
): Promise<RestoredCounts | undefined> {
  const res = await agentRequest(access, pod, '/session', {
    method: 'POST',
    json: config,
    // Restoring localStorage loads one (intercepted) page per origin.
    timeoutMs: config.storageState ? 60_000 : 10_000,
  });
  // 422: the agent refused the settings for good (e.g. the upstream proxy refused the credentials).
  if (res.status === 422) {
    const body: { error?: unknown } = await res.json<{ error?: unknown }>().catch(() => ({}));
    throw new SessionConfigRejectedError(typeof body.error === 'string' ? body.error : 'rejected');
  }
  if (res.status < 200 || res.status >= 300) throw await failure(pod, 'POST /session', res);
  if (res.status !== 200) {
    res.discard();
    return undefined;
  }
  return (await res.json<{ restored?: RestoredCounts }>()).restored;
}

/** GET /storage-state: the browser's cookies and localStorage now (Playwright's shape). */
export async function fetchStorageState(access: PodAgentAccess, pod: AgentRef): Promise<PodStorageState> {
  const res = await agentRequest(access, pod, '/storage-state', { timeoutMs: 30_000 });
  if (res.status !== 200) throw await failure(pod, 'GET /storage-state', res);
  return res.json<PodStorageState>();
}

/**
 * GET /live-view: whether the pod has a live view (`/vnc`: x11vnc on a headful pod's desktop, the
 * page's screencast on a headless one) and whether viewers can type and click into it (headful only).
 * Both false when the agent does not know the endpoint (the sim runtime) or does not answer.
 */
export async function podLiveView(
  access: PodAgentAccess,
  pod: AgentRef,
): Promise<{ available: boolean; interactive: boolean }> {
  try {
    const res = await agentRequest(access, pod, '/live-view', { timeoutMs: 2_000 });
    if (res.status !== 200) {
      res.discard();
      return { available: false, interactive: false };
    }
    const body = await res.json<{ available?: unknown; interactive?: unknown }>();
    return { available: body.available === true, interactive: body.interactive === true };
  } catch {
    return { available: false, interactive: false };
  }
}
