/** Playwright helper: `const browser = await connectOverCDP(session)`. Needs `playwright-core` (or `playwright`). */
import { chromium, type Browser, type ConnectOverCDPOptions } from 'playwright-core';
import type { Session } from './session.js';

/**
 * Connects Playwright to the session's browser, waiting for RUNNING first if need be. Closing the
 * returned Browser disconnects; with `keep_alive_seconds: 0` that also releases the session.
 */
export async function connectOverCDP(session: Session, options?: ConnectOverCDPOptions): Promise<Browser> {
  if (session.status !== 'RUNNING') await session.waitUntilRunning();
  return chromium.connectOverCDP(session.connectUrl, options);
}
