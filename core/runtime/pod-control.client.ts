/** HTTP calls to a pod's control endpoint, the same for every driver whose pods run our agent API. */
import { SessionConfigRejectedError } from './driver.ts';
import type { Pod, PodSessionConfig, PodStorageState, RestoredCounts } from './driver.ts';

/** True when `url` answers 2xx within a second. */
export async function answersOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

async function failure(pod: Pod, what: string, res: Response): Promise<Error> {
  const body = await res.text().catch(() => '');
  return new Error(`pod ${pod.id}: ${what} answered ${res.status} ${body}`.trim());
}

/**
 * POST /session: applies a session's settings inside the pod's browser. Resolves with the counts of
 * what was restored when the config carried a storage state (the agent answers 200 with them).
 */
export async function postSessionConfig(
  pod: Pod,
  config: PodSessionConfig,
): Promise<RestoredCounts | undefined> {
  const res = await fetch(`${pod.controlUrl}/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(config),
    // Restoring localStorage loads one (intercepted) page per origin.
    signal: AbortSignal.timeout(config.storageState ? 60_000 : 10_000),
  });
  // 422: the agent refused the settings for good (e.g. the upstream proxy refused the credentials).
  if (res.status === 422) {
    const body = (await res.json().catch(() => ({}))) as { error?: unknown };
    throw new SessionConfigRejectedError(typeof body.error === 'string' ? body.error : 'rejected');
  }
  if (!res.ok) throw await failure(pod, 'POST /session', res);
  if (res.status !== 200) {
    await res.body?.cancel();
    return undefined;
  }
  const body = (await res.json()) as { restored?: RestoredCounts };
  return body.restored;
}

/** GET /storage-state: the browser's cookies and localStorage now (Playwright's shape). */
export async function fetchStorageState(pod: Pod): Promise<PodStorageState> {
  const res = await fetch(`${pod.controlUrl}/storage-state`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw await failure(pod, 'GET /storage-state', res);
  return (await res.json()) as PodStorageState;
}

/**
 * GET /live-view: whether the pod has a live view (`/vnc`: x11vnc on a headful pod's desktop, the
 * page's screencast on a headless one) and whether viewers can type and click into it (headful only).
 * Both false when the agent does not know the endpoint (the sim runtime) or does not answer.
 */
export async function podLiveView(controlUrl: string): Promise<{ available: boolean; interactive: boolean }> {
  try {
    const res = await fetch(`${controlUrl}/live-view`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) {
      await res.body?.cancel();
      return { available: false, interactive: false };
    }
    const body = (await res.json()) as { available?: unknown; interactive?: unknown };
    return { available: body.available === true, interactive: body.interactive === true };
  } catch {
    return { available: false, interactive: false };
  }
}
