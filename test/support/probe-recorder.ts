import type { RuntimeDriver } from '../../core/runtime/driver.ts';

/**
 * Records every pod `driver` health-probes from now on, in order, in the returned array (empty it
 * with `length = 0` to start over). The probes still run.
 */
export function recordProbes(driver: Pick<RuntimeDriver, 'isHealthy'>): string[] {
  const probed: string[] = [];
  const probe = driver.isHealthy.bind(driver);
  driver.isHealthy = (pod) => {
    probed.push(pod.id);
    return probe(pod);
  };
  return probed;
}
