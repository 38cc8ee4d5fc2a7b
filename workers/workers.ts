/** Starts one BullMQ worker per queue, dispatching each job to its processor. */
import { Worker, type Job } from 'bullmq';
import type { RuntimeDriver } from '../core/runtime/driver.ts';
import type { Services } from '../core/services.ts';
import { QUEUE_NAMES, type JobName } from '../core/queue/jobs.ts';
import { wrapProcessor } from './processor.ts';
import { provisionProcessor } from './provision.processor.ts';
import { expireProcessor } from './expire.processor.ts';
import { teardownProcessor } from './teardown.processor.ts';
import { recordingSweepProcessor } from './recording-sweep.processor.ts';
import { signingKeySweepProcessor } from './signing-key-sweep.processor.ts';
import { profilePurgeProcessor } from './profile-purge.processor.ts';
import { poolHistoryProcessor } from './pool-history.processor.ts';
import { POOL_HISTORY_INTERVAL_MS } from '../core/pools/pool-history.ts';
import { SIGNING_KEY_SWEEP_MS } from '../core/security/signing-key-sweep.ts';
import { createArtifactStore } from '../core/artifacts/local-artifact.store.ts';
import { checkReadiness } from '../core/process/health.ts';
import { PodFleet } from '../core/pools/pod-fleet.ts';

export interface WorkersOptions {
  driver: RuntimeDriver;
  headless: boolean;
  /** Jobs handled at once per queue; provisioning mostly waits on I/O. */
  concurrency?: number;
}

export interface RunningWorkers {
  close(): Promise<void>;
}

export function startWorkers(services: Services, options: WorkersOptions): RunningWorkers {
  const log = services.log.child({ component: 'workers' });
  const { metrics } = services;
  const store = createArtifactStore(services.config);
  const storesDown = async () => !(await checkReadiness(services)).ready;
  const fleet = new PodFleet({ ...services, driver: options.driver, headless: options.headless });
  const handlers: Record<JobName, (job: Job, token?: string) => Promise<void>> = {
    provision: wrapProcessor(
      'provision',
      log,
      provisionProcessor({ services, driver: options.driver, fleet }),
      metrics,
      storesDown,
    ),
    expire: wrapProcessor('expire', log, expireProcessor(services), metrics, storesDown),
    teardown: wrapProcessor(
      'teardown',
      log,
      teardownProcessor(services, options.driver, fleet, store),
      metrics,
      storesDown,
    ),
    'recording-sweep': wrapProcessor(
      'recording-sweep',
      log,
      recordingSweepProcessor(services, store),
      metrics,
      storesDown,
    ),
    'signing-key-sweep': wrapProcessor(
      'signing-key-sweep',
      log,
      signingKeySweepProcessor(services),
      metrics,
      storesDown,
    ),
    'pool-history-sample': wrapProcessor(
      'pool-history-sample',
      log,
      poolHistoryProcessor(services),
      metrics,
      storesDown,
    ),
    'profile-purge': wrapProcessor(
      'profile-purge',
      log,
      profilePurgeProcessor(services),
      metrics,
      storesDown,
    ),
  };
  const dispatch = async (job: Job, token?: string) => {
    const handler = handlers[job.name as JobName] as
      ((job: Job, token?: string) => Promise<void>) | undefined;
    if (!handler) throw new Error(`no processor for job ${job.name}`);
    await handler(job, token);
  };
  const workers = QUEUE_NAMES.map(
    (queue) =>
      new Worker(queue, dispatch, {
        connection: services.duplicateRedis(),
        prefix: services.queuePrefix,
        // One sweep at a time is plenty; session work runs many jobs at once.
        concurrency: queue === 'maintenance' ? 1 : (options.concurrency ?? 16),
        // A worker that dies (SIGKILL, node loss) holds a job's lock until it lapses; then another
        // worker's stalled-job check takes the job back. Shorter than BullMQ's 30 s + 30 s defaults.
        lockDuration: 10_000,
        stalledInterval: 5_000,
        maxStalledCount: 3,
      }),
  );
  for (const w of workers) w.on('error', (err) => log.error({ err }, 'worker error'));
  const sweepMs = services.config.recordingSweepMs;
  services.jobs.schedule('recording-sweep', {}, sweepMs).catch((err: Error) => {
    log.error({ err }, 'scheduling the recording sweep failed');
  });
  services.jobs.schedule('signing-key-sweep', {}, SIGNING_KEY_SWEEP_MS).catch((err: Error) => {
    log.error({ err }, 'scheduling the signing-key sweep failed');
  });
  services.jobs.schedule('profile-purge', {}, services.config.profilePurgeEveryMs).catch((err: Error) => {
    log.error({ err }, 'scheduling the profile purge failed');
  });
  services.jobs.schedule('pool-history-sample', {}, POOL_HISTORY_INTERVAL_MS).catch((err: Error) => {
    log.error({ err }, 'scheduling the pool history sample failed');
  });
  return {
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
