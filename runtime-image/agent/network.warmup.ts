/**
 * Warms the browser's network path while the pod is warm, so that a session's first page load does
 * not pay for it. A new profile opens its cookie store (an SQLite file) on the first request that
 * reads cookies, and Chromium sets up its proxy connection and network-stack objects, and the agent
 * its egress path, on the first request through them: together about 14 ms of the first `goto`
 * (docs/performance.md, "Ninth pass").
 *
 * While warm the agent reads the cookies (`Storage.getCookies`: nothing changes) and loads WARMUP_URL
 * in the initial page's network context (`Network.loadNetworkResource`, as DevTools loads a source
 * map: the browser makes the request, no script runs in the page, which keeps its document, history
 * and timing entries). The forwarding proxy answers that URL itself (forward-proxy.ts): the request
 * goes the whole way through the egress bridge and back, and nothing leaves the pod. Running a script
 * in the page instead would cost the warm pod 1 MiB more (its JavaScript context).
 */
import { randomBytes } from 'node:crypto';
import type { CdpConnection } from './cdp.client.ts';

/** A name under RFC 6761's `.invalid`: no name server knows it. */
export const WARMUP_HOST = 'warmup.ventus.invalid';
/**
 * The one URL the forwarding proxy answers itself (204: no lookup, nothing forwarded). Its path is
 * random per agent, so no page can tell a pod by it: any other URL on the host is an ordinary request
 * to a name that does not resolve, refused like any other.
 */
export const WARMUP_URL = `http://${WARMUP_HOST}/${randomBytes(16).toString('hex')}`;

/** Reads the cookies and loads WARMUP_URL for the first page; resolves with whether the load went. */
export async function warmNetwork(cdp: CdpConnection): Promise<boolean> {
  await cdp.send('Storage.getCookies');
  const { targetInfos } = await cdp.send<{ targetInfos: { targetId: string; type: string }[] }>(
    'Target.getTargets',
  );
  const page = targetInfos.find((t) => t.type === 'page');
  if (!page) return false;
  const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', {
    targetId: page.targetId,
    flatten: true,
  });
  try {
    const { resource } = await cdp.send<{ resource: { success: boolean } }>(
      'Network.loadNetworkResource',
      // A page's main frame has its target's id.
      { frameId: page.targetId, url: WARMUP_URL, options: { disableCache: true, includeCredentials: true } },
      sessionId,
    );
    return resource.success;
  } finally {
    await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
  }
}
