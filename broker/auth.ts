/** Bearer API key authentication and scope checks for /v1/*. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticateApiKey, type ApiKeyPrincipal } from '../core/db/workspaces.repository.ts';
import type { Database } from '../core/db/database.ts';
import { ProblemError } from '../core/domain/problems.ts';
import { hasScope, isScope, type Scope } from '../core/domain/scopes.ts';
import { REQUIRED_SCOPE } from './openapi/route-schema.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: ApiKeyPrincipal | undefined;
  }
}

/** Keys are re-checked against Postgres at most this often, so a revoked key stops within seconds. */
const CACHE_MS = 5_000;
const CACHE_MAX = 10_000;

type PrincipalCache = Map<string, { principal: ApiKeyPrincipal; at: number }>;
/** Every live app's cache in this process (tests run several apps), so a revocation reaches all. */
const caches = new Set<PrincipalCache>();
/** Keys revoked in this process within CACHE_MS: a lookup that raced the revocation must not re-cache them. */
const revokedHere = new Map<string, number>();

/**
 * Drops a key from this process's principal caches, so a revoked key fails on its next request
 * here. Other broker replicas keep their cached principal for up to CACHE_MS. Call it after the
 * revocation committed; clearing earlier would let a concurrent request re-cache the live key.
 */
export function forgetApiKey(keyId: string): void {
  const now = Date.now();
  for (const [id, at] of revokedHere) if (now - at >= CACHE_MS) revokedHere.delete(id);
  revokedHere.set(keyId, now);
  for (const cache of caches) {
    for (const [token, entry] of cache) if (entry.principal.keyId === keyId) cache.delete(token);
  }
}

export function registerAuth(app: FastifyInstance, db: Database): void {
  const cache: PrincipalCache = new Map();
  caches.add(cache);
  app.addHook('onClose', async () => {
    caches.delete(cache);
  });
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v1/')) return;
    // Node keeps the first of several Authorization headers; a proxy in front may keep the last.
    // Credentials that two hops could read differently are refused outright.
    if (
      request.raw.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'authorization').length > 1
    )
      throw new ProblemError('validation-error', { detail: 'Send exactly one Authorization header' });
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
    if (!revokedHere.has(principal.keyId)) cache.set(token, { principal, at: Date.now() });
    request.principal = principal;
  });
  // A key without the route's scope learns nothing about the request's shape: 403 before 400.
  app.addHook('preValidation', async (request) => {
    const scope = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[REQUIRED_SCOPE];
    if (request.principal && typeof scope === 'string' && isScope(scope)) requireScope(request, scope);
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
