/**
 * The dashboard at /dashboard: a small single-page app of plain ES modules and one stylesheet,
 * served as static files from `public/`.
 *
 * Why not Vite or server-rendered pages: the dashboard is a client of the public API (the same
 * Bearer key, the same JSON), so it needs no server code of its own and proves the API is enough.
 * Plain ES modules run in every current browser without a bundler, so there is no build step for
 * `npm start`, the Docker image or the tests to run and no new dependency; and a fixed list of files
 * read once at start keeps the server side a dozen lines, without a path to traverse.
 *
 * Every response carries a strict Content-Security-Policy: scripts, styles and fetches from this
 * origin only (no inline script, no eval), frames only from the live-view origin, nothing may frame
 * the dashboard, and no referrer leaves it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { TERMINAL_STATUSES, UI_LABELS } from '../../core/domain/session-states.ts';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Config } from '../../core/config/config.ts';
import { ProblemError } from '../../core/domain/problems.ts';

const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  body: Buffer;
  type: string;
}

function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(PUBLIC_DIR)) {
    const type = TYPES[path.extname(name)];
    if (type) assets.set(name, { body: readFileSync(path.join(PUBLIC_DIR, name)), type });
  }
  // The states and their title-case labels come from the domain, not from a copy in the page's code.
  const states = [
    `export const STATUS_LABELS = ${JSON.stringify(UI_LABELS)};`,
    `export const TERMINAL = new Set(${JSON.stringify(TERMINAL_STATUSES)});`,
    '',
  ].join('\n');
  assets.set('states.js', { body: Buffer.from(states), type: TYPES['.js']! });
  return assets;
}

/** The policy of every dashboard response; `liveViewOrigin` may embed the live view. */
export function dashboardCsp(liveViewOrigin: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    `frame-src 'self' ${liveViewOrigin}`,
    // The recording player loads the signed recording URL (the broker's public origin).
    `media-src 'self' ${liveViewOrigin}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** `config.publicUrl` is read per response (tests learn their port after the app is built). */
export function dashboardPlugin(config: Pick<Config, 'publicUrl'>) {
  return async function register(app: FastifyInstance): Promise<void> {
    const assets = loadAssets();
    const send = (reply: FastifyReply, asset: Asset) =>
      reply
        .header('Content-Type', asset.type)
        .header('Content-Security-Policy', dashboardCsp(new URL(config.publicUrl).origin))
        .header('X-Content-Type-Options', 'nosniff')
        .header('Referrer-Policy', 'no-referrer')
        .header('Cross-Origin-Opener-Policy', 'same-origin')
        // Revalidate: a new release must not run with a stale module next to a fresh one.
        .header('Cache-Control', 'no-cache')
        .send(asset.body);

    const index = assets.get('index.html');
    if (!index) throw new Error(`dashboard: ${PUBLIC_DIR}/index.html is missing`);
    // Hidden from /openapi.json: the dashboard is a page, not part of the API.
    const hide = { schema: { hide: true } };
    app.get('/dashboard', hide, async (_request, reply) => send(reply, index));
    app.get('/dashboard/', hide, async (_request, reply) => send(reply, index));
    app.get<{ Params: { file: string } }>('/dashboard/:file', hide, async (request, reply) => {
      const asset = assets.get(request.params.file);
      if (!asset) throw new ProblemError('not-found', { detail: 'No such dashboard file' });
      return send(reply, asset);
    });
  };
}
