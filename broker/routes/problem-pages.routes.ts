/**
 * /errors/{type}: the page every problem document's `type` URL names (built from PUBLIC_URL). It says
 * when the error happens and what to do, from the one problem registry; /errors lists them all.
 * No authentication: a client that got the error must be able to read its page.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  isProblemType,
  PROBLEMS,
  problemTypeUrl,
  ProblemError,
  type ProblemType,
} from '../../core/domain/problems.ts';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Registry text marks code with backticks. */
const prose = (text: string) => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}' +
  'code{background:#f0f2f5;padding:0 .25em;border-radius:3px}h1 small{color:#57606a;font-weight:400}' +
  'dt{font-weight:600;margin-top:1rem}a{color:#0b5cad}table{border-collapse:collapse}td{padding:.2rem .8rem .2rem 0}';

function page(reply: FastifyReply, title: string, body: string): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
    .header('cache-control', 'public, max-age=3600')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
        `<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>` +
        `<body>${body}</body></html>`,
    );
}

function problemPage(publicUrl: string, type: ProblemType): string {
  const p = PROBLEMS[type];
  return (
    `<p><a href="${escapeHtml(publicUrl)}/errors">All errors</a></p>` +
    `<h1>${escapeHtml(p.title)} <small>${p.status}</small></h1>` +
    `<p><code>${escapeHtml(problemTypeUrl(publicUrl, type))}</code></p><dl>` +
    `<dt>When it happens</dt><dd>${prose(p.when)}</dd>` +
    `<dt>What to do</dt><dd>${prose(p.advice)}</dd>` +
    '<dt>The response</dt><dd>An RFC 7807 problem document (<code>application/problem+json</code>) with ' +
    '<code>type</code> (this page), <code>title</code>, <code>status</code>, <code>detail</code> (what ' +
    'exactly went wrong) and <code>instance</code> (the path you called).</dd></dl>'
  );
}

export function problemPagesRoutes() {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get('/errors', { schema: { hide: true } }, async (_request, reply) => {
      const rows = (Object.keys(PROBLEMS) as ProblemType[])
        .map(
          (type) =>
            `<tr><td>${PROBLEMS[type].status}</td><td><a href="${escapeHtml(problemTypeUrl(app.publicUrl, type))}">` +
            `${escapeHtml(type)}</a></td><td>${escapeHtml(PROBLEMS[type].title)}</td></tr>`,
        )
        .join('');
      return page(
        reply,
        'Errors',
        `<h1>Errors</h1><p>Every error the API answers.</p><table>${rows}</table>`,
      );
    });

    app.get<{ Params: { type: string } }>(
      '/errors/:type',
      { schema: { hide: true } },
      async (request, reply) => {
        const { type } = request.params;
        if (!isProblemType(type)) throw new ProblemError('not-found', { detail: `No error type '${type}'` });
        if (request.headers.accept?.includes('application/json')) {
          const { status, title, when, advice } = PROBLEMS[type];
          return { type: problemTypeUrl(app.publicUrl, type), status, title, when, advice };
        }
        return page(reply, PROBLEMS[type].title, problemPage(app.publicUrl, type));
      },
    );
  };
}
