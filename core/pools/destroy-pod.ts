/**
 * A pod's end, in one place: the driver deletes it and the pools' Redis record of it is forgotten,
 * also when the delete fails (the error still reaches the caller: a job retries it, a reconciler
 * logs it). No caller pairs the two calls by hand.
 */
import type { PodRecords } from '../redis/pod-records.ts';
import type { RuntimeDriver } from '../runtime/driver.ts';

export interface PodFleetDeps {
  driver: Pick<RuntimeDriver, 'deletePod'>;
  podRecords: Pick<PodRecords, 'forgetPod'>;
}

export async function destroyPod(deps: PodFleetDeps, podId: string): Promise<void> {
  try {
    await deps.driver.deletePod(podId);
  } finally {
    await deps.podRecords.forgetPod(podId);
  }
}
