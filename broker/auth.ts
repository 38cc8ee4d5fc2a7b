/** Bearer API key authentication and scope checks for /v1/*. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticateApiKey, type ApiKeyPrincipal } from '../core/db/workspaces.repository.ts';
import type { Database } from '../core/db/database.ts';
import { ProblemError } from '../core/domain/problems.ts';
import { hasScope, type Scope } from '../core/domain/scopes.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: ApiKeyPrincipal | undefined;
  }
}

/** Keys are re-checked against Postgres at most this often, so a revoked key stops within seconds. */
const CACHE_MS = 5_000;
const CACHE_MAX = 10_000;

export function registerAuth(app: FastifyInstance, db: Database): void {
  const cache = new Map<string, { principal: ApiKeyPrincipal; at: number }>();
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v1/')) return;
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!token)
      throw new ProblemError('unauthorized', {
        detail: 'Send Authorization: Bearer vs_… with a workspace API key',
      });
    const cached = cache.get(token);
    if (cached && Date.now() - cached.at < CACHE_MS) {
      request.principal = cached.principal;
      return;
    }
    const principal = await authenticateApiKey(db, token);
    if (!principal)
      throw new ProblemError('unauthorized', { detail: 'The API key is malformed, unknown or revoked' });
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(token, { principal, at: Date.now() });
    request.principal = principal;
  });
}

/** The authenticated principal, after checking it holds `scope`. */
export function requireScope(request: FastifyRequest, scope: Scope): ApiKeyPrincipal {
  const principal = request.principal;
  if (!principal) throw new ProblemError('unauthorized');
  if (!hasScope(principal.scopes, scope)) {
    throw new ProblemError('forbidden', { detail: `This API key lacks the '${scope}' scope` });
  }
  return principal;
}
