/** HTTP calls to a pod's control endpoint, the same for every driver whose pods run our agent API. */
import type { Pod, PodSessionConfig } from './driver.ts';

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

/** POST /session: applies a session's settings inside the pod's browser. */
export async function postSessionConfig(pod: Pod, config: PodSessionConfig): Promise<void> {
  const res = await fetch(`${pod.controlUrl}/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(config),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) {
    const body = await res.text().catch(() => '');
    throw new Error(`pod ${pod.id}: POST /session answered ${res.status} ${body}`.trim());
  }
  await res.body?.cancel();
}
