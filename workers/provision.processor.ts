/** provision jobs: each attempt is the session lifecycle's provision operation (core/lifecycle/provision-session.ts). */
import { provisionSession, type ProvisionDeps } from '../core/lifecycle/provision-session.ts';
import type { JobContext } from './processor.ts';

export function provisionProcessor(deps: ProvisionDeps) {
  const provision = provisionSession(deps);
  return ({ payload, log, lastAttempt }: JobContext<'provision'>): Promise<void> =>
    provision({ sessionId: payload.sessionId, log, lastAttempt });
}
