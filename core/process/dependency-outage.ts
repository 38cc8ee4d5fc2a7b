/**
 * Tells a store outage (Postgres or Redis unreachable, restarting, or too slow to answer) from a bug,
 * so a request that fails on one is a 503 `service-unavailable` with Retry-After (the client retries
 * the same request), not a 500 with an "unexpected error".
 */

/** Socket-level failures: the store is down, restarting, or the network path to it broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * Postgres SQLSTATEs of an unavailable server: class 08 (connection exception), 57P01–57P03
 * (admin/crash shutdown, cannot connect now: a restart), 53300 (too many connections).
 */
function isPostgresUnavailable(code: string): boolean {
  return code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code);
}

/** What node-postgres and ioredis say when a connection is gone or a command ran out of time. */
const MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection is closed',
  'Command timed out',
  "Stream isn't writeable",
  'Reached the max retries per request limit',
];

/** True when `err` (or an error it wraps) says a store is unavailable rather than the request wrong. */
export function isDependencyOutage(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 4) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || isPostgresUnavailable(code))) return true;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  if (MESSAGES.some((m) => err.message.includes(m))) return true;
  if (err instanceof AggregateError && err.errors.some((e) => isDependencyOutage(e, depth + 1))) return true;
  return isDependencyOutage(err.cause, depth + 1);
}
