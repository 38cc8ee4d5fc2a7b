/** teardown jobs: the session lifecycle's teardown operation (core/lifecycle/teardown-session.ts). */
import { teardownSession, type TeardownDeps } from '../core/lifecycle/teardown-session.ts';
import type { ArtifactStore } from '../core/artifacts/artifact-store.ts';
import type { PodFleet } from '../core/pools/pod-fleet.ts';
import type { RuntimeDriver } from '../core/runtime/driver.ts';
import type { JobContext } from './processor.ts';

export function teardownProcessor(
  services: TeardownDeps,
  driver: RuntimeDriver,
  fleet: PodFleet,
  store?: ArtifactStore,
) {
  const teardown = teardownSession(services, driver, fleet, store);
  return ({ payload, log }: JobContext<'teardown'>): Promise<void> =>
    teardown({ sessionId: payload.sessionId, log });
}
