/**
 * Warms the browser's network path while the pod is warm, so that a session's first page load does
 * not pay for it. A new profile opens its cookie store (an SQLite file) on the first request that
 * reads cookies, and Chromium sets up its proxy connection and network-stack objects, and the agent
 * its egress path, on the first request through them: together about 20 ms of the first `goto`
 * (docs/performance.md, "Ninth pass").
 *
 * While warm the agent reads the cookies (`Storage.getCookies`: nothing changes) and has the initial
 * page fetch WARMUP_URL, which the forwarding proxy answers itself (forward-proxy.ts): the request goes
 * the whole way through the egress bridge and back, and nothing leaves the pod. The page stays the
 * same about:blank (a fetch, not a navigation: no history entry), and its resource timing entry is
 * cleared after it.
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

/**
 * The page's script: fetch, then clear the resource timing entry once the browser has recorded it
 * (after the fetch settles, so the observer says when). Resolves true once the request went.
 */
const FETCH = `new Promise((resolve) => {
  const done = (went) => { seen.disconnect(); clearTimeout(timer); performance.clearResourceTimings(); resolve(went); };
  const seen = new PerformanceObserver(() => done(true));
  seen.observe({ type: 'resource' });
  const timer = setTimeout(() => done(false), 5000);
  fetch(${JSON.stringify(WARMUP_URL)}, { mode: 'no-cors', cache: 'no-store', credentials: 'include' })
    .catch(() => done(false));
})`;

/** Reads the cookies and fetches WARMUP_URL from the first page; resolves with whether the fetch went. */
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
    const { result } = await cdp.send<{ result: { value?: unknown } }>(
      'Runtime.evaluate',
      { expression: FETCH, awaitPromise: true, returnByValue: true },
      sessionId,
    );
    return result.value === true;
  } finally {
    await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
  }
}
