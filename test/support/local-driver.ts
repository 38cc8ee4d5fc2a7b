/** A local driver for tests that make pods themselves (or only list and delete a stack's pods). */
import { LocalDriver, type LocalDriverOptions } from '../../core/runtime/local.driver.ts';
import { testAgentAccess } from './agent-access.ts';
import { pageEgressAllow } from './page-ports.ts';

export function testLocalDriver(stateDir: string, options: Partial<LocalDriverOptions> = {}): LocalDriver {
  return new LocalDriver({
    stateDir,
    agentAccess: testAgentAccess,
    // Test pages listen on a few fixed ports (page-ports.ts).
    egress: { allow: pageEgressAllow().split(','), allowPrivate: false },
    ...options,
  });
}
