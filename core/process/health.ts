/**
 * Liveness, readiness and the metrics guard, shared by the broker's routes and the ops server of the
 * other processes, so every process answers /healthz, /readyz and /metrics the same way.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { problemDocument, type ProblemDocument } from '../domain/problems.ts';
import { scrubUrl } from '../domain/scrubber.ts';
import { assertRedisReady, withTimeout } from '../metrics/state-sources.ts';
import type { Services } from '../services.ts';

/** Below a kubelet's default 1 s probe timeout: a slow store reads as "not ready", not as a timeout. */
export const READINESS_TIMEOUT_MS = 800;
/** Seconds a load balancer or client should wait before probing a not-ready process again. */
export const READINESS_RETRY_AFTER_SECONDS = 5;

export type CheckName = 'postgres' | 'redis';

export interface Readiness {
  ready: boolean;
  /** `ok`, or why the check failed. */
  checks: Record<CheckName, string>;
}

async function check(run: () => Promise<unknown>, what: string, timeoutMs: number): Promise<string> {
  try {
    await withTimeout(run(), timeoutMs, what);
    return 'ok';
  } catch (err) {
    // A driver's message may carry a connection string: never echo credentials.
    return scrubUrl(err instanceof Error ? err.message : String(err));
  }
}

/** The two stores a process cannot serve without. */
export type ReadinessDeps = Pick<Services, 'db' | 'redis'>;

/** Postgres answers `SELECT 1` and Redis answers PING, both within `timeoutMs`, checked in parallel. */
export async function checkReadiness(
  services: ReadinessDeps,
  timeoutMs = READINESS_TIMEOUT_MS,
): Promise<Readiness> {
  const [postgres, redis] = await Promise.all([
    check(() => services.db.query('SELECT 1'), 'Postgres', timeoutMs),
    check(
      async () => {
        assertRedisReady(services.redis);
        return services.redis.ping();
      },
      'Redis',
      timeoutMs,
    ),
  ]);
  return { ready: postgres === 'ok' && redis === 'ok', checks: { postgres, redis } };
}

/** The 200 body of /readyz. */
export function readyBody(readiness: Readiness) {
  return { status: 'ready' as const, checks: readiness.checks };
}

/** The 503 problem document of /readyz: `checks` names every check, `failing` the ones that failed. */
export function notReadyProblem(readiness: Readiness, instance = '/readyz'): ProblemDocument {
  const failing = (Object.keys(readiness.checks) as CheckName[]).filter((n) => readiness.checks[n] !== 'ok');
  return problemDocument('service-unavailable', {
    detail: `Not ready: ${failing.map((n) => `${n} (${readiness.checks[n]})`).join('; ')}`,
    instance,
    checks: readiness.checks,
    failing,
  });
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Whether a /metrics request may read the metrics: always when no token is configured, else only
 * with `Authorization: Bearer <token>` (compared in constant time).
 */
export function metricsAllowed(token: string | undefined, authorization: string | undefined): boolean {
  if (token === undefined) return true;
  const given = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : '';
  return timingSafeEqual(digest(given), digest(token));
}

export function metricsUnauthorizedProblem(instance = '/metrics'): ProblemDocument {
  return problemDocument('unauthorized', {
    detail: 'Send Authorization: Bearer <VENTUS_METRICS_TOKEN> to read the metrics',
    instance,
  });
}
