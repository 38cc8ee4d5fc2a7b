/**
 * The viewer: one HTML page per session (`/v/{id}?token=`), its script, and noVNC's ES modules served
 * from node_modules (no build step, no CDN: the viewer works where the service works).
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ViewerState } from './live-view.access.ts';

export const ASSETS_PREFIX = '/v/_assets/';
export const NOVNC_PREFIX = '/v/_novnc/';

/** What the status line says, per state (the tests and the dashboard read these words). */
export const STATUS_LABELS: Record<ViewerState | 'connecting' | 'disconnected' | 'unavailable', string> = {
  connecting: 'Connecting',
  live: 'Live',
  ended: 'Session ended',
  expired: 'Link expired',
  invalid: 'Invalid link',
  'not-found': 'Session not found',
  'not-running': 'Session not running yet',
  unavailable: 'Live view unavailable',
  disconnected: 'Disconnected',
};

/**
 * The page's own policy: scripts only from here (no inline script), the VNC socket on this origin, and
 * framable by this origin only (the dashboard embeds it). `no-referrer`: the token in the URL never
 * leaves in a Referer header.
 */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data: blob:; " +
    "connect-src 'self' ws: wss:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
} as const;

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `
html, body { margin: 0; height: 100%; background: #111; color: #eee; font: 14px system-ui, sans-serif; }
header { display: flex; gap: 1rem; align-items: center; height: 36px; padding: 0 12px; background: #1e1e1e; box-sizing: border-box; }
#status { font-weight: 600; }
#status[data-state="live"] { color: #4ade80; }
#status[data-state="ended"], #status[data-state="expired"], #status[data-state="invalid"] { color: #fca5a5; }
#mode { color: #aaa; }
#screen { position: absolute; top: 36px; left: 0; right: 0; bottom: 0; }
p.detail { padding: 24px; max-width: 40rem; }`;

/**
 * The viewer page. With `detail`, the session cannot be watched now (the state says why) and the
 * page has no script; otherwise the script connects and keeps the status line current.
 */
export function viewerPage(opts: {
  sessionId: string;
  state: ViewerState | 'connecting' | 'unavailable';
  interactive: boolean;
  detail?: string;
}): string {
  const id = escapeHtml(opts.sessionId);
  const label = STATUS_LABELS[opts.state];
  const live = opts.detail === undefined;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Live view: session ${id}</title><style>${STYLE}</style></head>
<body data-session="${id}" data-state="${opts.state}" data-interactive="${opts.interactive}">
<header><strong>Live view</strong>
<span id="status" role="status" aria-live="polite" data-state="${opts.state}">${label}</span>
<span id="mode">${opts.interactive ? 'Interactive: your keyboard and mouse reach the browser' : 'Read-only'}</span></header>
${live ? `<main id="screen" aria-label="The session's browser desktop"></main>\n<script type="module" src="${ASSETS_PREFIX}viewer.js"></script>` : `<p class="detail">${escapeHtml(opts.detail ?? '')}</p>`}
</body></html>`;
}

/**
 * The page's script (an ES module; plain JavaScript for the browser). It reads the token from its own
 * URL, connects noVNC to `/v/{id}/websockify`, scales the desktop to fit, and on a disconnect asks
 * `/v/{id}/status` why (session ended, link expired) so the status line tells the truth.
 */
export const VIEWER_SCRIPT = `import RFB from '${NOVNC_PREFIX}core/rfb.js';
const LABELS = ${JSON.stringify(STATUS_LABELS)};
const body = document.body;
const statusEl = document.getElementById('status');
const sessionId = body.dataset.session;
const interactive = body.dataset.interactive === 'true';
const token = new URLSearchParams(location.search).get('token') || '';
const query = '?token=' + encodeURIComponent(token);
function show(state) {
  statusEl.textContent = LABELS[state] || state;
  statusEl.dataset.state = state;
  body.dataset.state = state;
}
async function explain() {
  try {
    const res = await fetch('/v/' + sessionId + '/status' + query, { cache: 'no-store' });
    return (await res.json()).state || 'disconnected';
  } catch {
    return 'disconnected';
  }
}
const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
const url = scheme + '//' + location.host + '/v/' + sessionId + '/websockify' + query;
show('connecting');
const rfb = new RFB(document.getElementById('screen'), url, { shared: true });
rfb.scaleViewport = true;
rfb.resizeSession = false;
rfb.background = '#111';
// Cosmetic only: a read-only link's input is dropped by the proxy whatever the page sends.
rfb.viewOnly = !interactive;
rfb.focusOnClick = interactive;
rfb.addEventListener('connect', () => show('live'));
rfb.addEventListener('disconnect', async () => {
  const state = await explain();
  show(state === 'live' ? 'disconnected' : state);
});
window.ventusLiveView = { rfb, show };
`;

// The package exports only core/rfb.js: its root is two levels up.
const novncRoot = path.dirname(path.dirname(createRequire(import.meta.url).resolve('@novnc/novnc')));

/**
 * One of noVNC's ES modules (`core/…`, `vendor/…`), or undefined for anything else: only `.js`
 * files under those two folders, so no path reaches outside the package.
 */
export async function readNoVncModule(relative: string): Promise<Buffer | undefined> {
  const normalized = path.posix.normalize(relative);
  if (!/^(core|vendor)\/[A-Za-z0-9_./-]+\.js$/.test(normalized) || normalized.includes('..'))
    return undefined;
  try {
    return await readFile(path.join(novncRoot, normalized));
  } catch {
    return undefined;
  }
}
