/**
 * Refuses (400) request text Postgres cannot store: NUL characters (text and jsonb reject U+0000)
 * and lone UTF-16 surrogates (jsonb rejects an unpaired `\ud800`). Without this guard such a value in
 * a label, a user agent or a query parameter reached the database and came back as a 500.
 */
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../core/domain/problems.ts';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first path (`body.labels.k`) under `value` holding text Postgres cannot store, if any. */
export function unstorableText(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string')
    return value.includes('\u0000') || LONE_SURROGATE.test(value) ? path : undefined;
  // Deeper structures fail schema validation anyway; walking them would only cost stack.
  if (typeof value !== 'object' || value === null || depth > 64) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const found =
      unstorableText(key, `${path}.${key}`, depth + 1) ?? unstorableText(inner, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

export function registerTextGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const where =
      unstorableText(request.params, 'path') ??
      unstorableText(request.query, 'query') ??
      unstorableText(request.body, 'body');
    if (where)
      throw new ProblemError('validation-error', {
        detail: `${where} holds a NUL character or an unpaired surrogate, which no field accepts`,
      });
  });
}
