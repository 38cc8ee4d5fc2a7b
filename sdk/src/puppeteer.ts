/** Puppeteer helper: `const browser = await connect(session)`. Needs `puppeteer-core` (or `puppeteer`). */
import puppeteer, { type Browser, type ConnectOptions } from 'puppeteer-core';
import type { Session } from './session.js';

/**
 * Connects Puppeteer to the session's browser, waiting for RUNNING first if need be.
 * `defaultViewport: null` is the default here: the session's own `viewport` applies, where Puppeteer
 * would otherwise force 800x600 on every page.
 */
export async function connect(
  session: Session,
  options: Omit<ConnectOptions, 'browserWSEndpoint' | 'browserURL' | 'transport'> = {},
): Promise<Browser> {
  if (session.status !== 'RUNNING') await session.waitUntilRunning();
  return puppeteer.connect({ defaultViewport: null, ...options, browserWSEndpoint: session.connectUrl });
}
