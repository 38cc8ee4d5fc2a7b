/**
 * pool-history-sample: every pool's live figures appended to its history (core/pools/pool-history.ts).
 * History is a convenience: a failed run is logged by the job wrapper and the next one tries again.
 */
import { samplePools, type PoolSamplingDeps } from '../core/pools/pool-history.ts';
import type { JobContext } from './processor.ts';

export function poolHistoryProcessor(services: PoolSamplingDeps) {
  return async (_job: JobContext<'pool-history-sample'>): Promise<void> => {
    await samplePools(services);
  };
}
