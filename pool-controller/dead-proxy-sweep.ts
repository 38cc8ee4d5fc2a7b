/**
 * A proxy that died (SIGKILL, node loss) took its clients' sockets with it but could not count them
 * out. Once its heartbeat lapses, its connections are forgotten, and a session whose last clients
 * went with it is released as a clean last disconnect would (keep_alive_seconds 0 only; a session
 * with keep-alive waits for a reconnect until it expires).
 */
import { getSession } from '../core/db/sessions.repository.ts';
import { endSession, type EndSessionDeps } from '../core/lifecycle/end-session.ts';
import type { Services } from '../core/services.ts';
import type { Logger } from '../core/logging/logger.ts';

/** The proxies' connection counts and heartbeats, and what ending a session needs. */
export type DeadProxySweepDeps = EndSessionDeps & Pick<Services, 'cdpConnections'>;

export async function sweepDeadProxies(services: DeadProxySweepDeps, log: Logger): Promise<void> {
  for (const sessionId of await services.cdpConnections.sweepDeadProxies()) {
    const session = await getSession(services.db, sessionId);
    if (session?.status !== 'RUNNING' || session.keepAliveSeconds > 0) continue;
    const ended = await endSession(services, {
      sessionId,
      reason: 'cdp_disconnect',
      actor: 'pool-controller',
      auditClass: 'system',
    });
    if (ended) log.info({ sessionId }, 'last CDP clients left with a dead proxy; session released');
  }
}
