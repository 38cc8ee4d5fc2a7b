/**
 * Per-key rate limiting in Redis (shared by every broker replica): 429 `rate-limited` with
 * Retry-After and the IETF draft RateLimit-* headers. Runs after authentication, so it counts keys,
 * not IP addresses; unauthenticated routes (/healthz, /openapi.json, /docs) are not limited.
 */
import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { ProblemError } from '../core/domain/problems.ts';
import type { Services } from '../core/services.ts';

/** The shared Redis the counters live in, and the limit and key prefix from the config. */
export type RateLimitDeps = Pick<Services, 'config' | 'redis'>;

export async function registerRateLimit(app: FastifyInstance, services: RateLimitDeps): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    max: services.config.rateLimitPerMinute,
    timeWindow: 60_000,
    redis: services.redis,
    nameSpace: `${services.config.redisPrefix}:ratelimit:`,
    // A Redis outage must not turn every request into a 500: the other checks still hold.
    skipOnError: true,
    enableDraftSpec: true,
    // While Redis is unreachable nothing is counted (as skipOnError would, but without first waiting
    // out a command timeout on every request).
    allowList: (request) =>
      !request.url.startsWith('/v1/') || request.principal === undefined || services.redis.status !== 'ready',
    keyGenerator: (request) => request.principal?.keyId ?? request.ip,
    errorResponseBuilder: (_request, context) =>
      new ProblemError('rate-limited', {
        retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)),
        detail: `Rate limit of ${context.max} requests per minute exceeded for this API key; retry in ${context.after}`,
      }),
  });
}
