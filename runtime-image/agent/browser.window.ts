/**
 * The browser's windows on a headful pod's display: every one fullscreen at the display's top-left,
 * so the desktop the live view shows holds the page and nothing of the browser's own UI.
 *
 * Chromium starts in kiosk mode (chromium.launcher.ts), but kiosk covers only its first window: a
 * window opened later (a new browser context, as Playwright's `browser.newPage()` makes, or a popup
 * opened as a window) comes with a tab strip and an address bar. Fullscreen hides them the same way.
 * A client that sizes a window itself takes it out of fullscreen again (Chromium has no event for it
 * to follow): Playwright does for a context with a viewport (`newContext()`'s default 1280x720; a
 * session's viewport already applies to every page, so `newContext({ viewport: null })` is enough).
 */
import type { CdpConnection } from './cdp.client.ts';

export interface Size {
  width: number;
  height: number;
}

interface WindowInfo {
  windowId: number;
  bounds: { width?: number; height?: number; windowState?: string };
}

/** Puts the window holding `targetId` into fullscreen, unless it is already. */
export async function fullscreenWindowOf(cdp: CdpConnection, targetId: string): Promise<void> {
  const { windowId, bounds } = await cdp.send<WindowInfo>('Browser.getWindowForTarget', { targetId });
  if (bounds.windowState === 'fullscreen') return;
  await cdp.send('Browser.setWindowBounds', { windowId, bounds: { windowState: 'fullscreen' } });
}

/**
 * The size of the page's area on the display: the window of the first page (fullscreen, so all of
 * it is page). Undefined when no page is open. Without a window manager Chromium keeps a window one
 * pixel short of the screen on each side (1919x1079 on 1920x1080): asking is exact, guessing is not.
 */
export async function pageWindowSize(cdp: CdpConnection): Promise<Size | undefined> {
  const { targetInfos } = await cdp.send<{ targetInfos: { targetId: string; type: string }[] }>(
    'Target.getTargets',
  );
  const page = targetInfos.find((t) => t.type === 'page');
  if (!page) return undefined;
  const { bounds } = await cdp.send<WindowInfo>('Browser.getWindowForTarget', { targetId: page.targetId });
  return bounds.width && bounds.height ? { width: bounds.width, height: bounds.height } : undefined;
}

/** What of a page the display shows: its viewport, cut to the window when larger; the window without one. */
export function visibleArea(window: Size, viewport: Size | undefined): Size {
  if (!viewport) return window;
  return { width: Math.min(window.width, viewport.width), height: Math.min(window.height, viewport.height) };
}
