/** expire: wakes at a session's expires_at and lets the lifecycle decide (core/lifecycle/expire-session.ts). */
import type { EndSessionDeps } from '../core/lifecycle/end-session.ts';
import { expireIfDue } from '../core/lifecycle/expire-session.ts';
import type { JobContext } from './processor.ts';

export function expireProcessor(services: EndSessionDeps, now: () => number = Date.now) {
  return async ({ payload, log }: JobContext<'expire'>): Promise<void> => {
    const outcome = await expireIfDue(services, payload.sessionId, now);
    if (outcome === 'expired') log.info('session expired');
    else if (outcome === 'rescheduled') log.debug('expiry not due yet; re-scheduled');
  };
}
