/**
 * The wrapper every processor runs in: parse the payload against the catalog, bind a child logger
 * with the session id, turn non-retryable errors into BullMQ's UnrecoverableError, and record how
 * long the job waited and ran.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { Value } from 'typebox/value';
import { JOBS, type JobName, type JobPayload } from '../core/queue/jobs.ts';
import type { Logger } from '../core/logging/logger.ts';
import type { JobOutcome, Metrics } from '../core/metrics/metrics.ts';
import { isDependencyOutage } from '../core/process/dependency-outage.ts';

/** How long a job that failed on a store outage waits before it runs again (no attempt spent). */
export const OUTAGE_RETRY_MS = 2_000;

import { PermanentJobError } from '../core/queue/permanent-job-error.ts';

export { PermanentJobError };

export interface JobContext<N extends JobName> {
  payload: JobPayload<N>;
  log: Logger;
  job: Job;
  /** True on the last attempt BullMQ will make: the processor's chance to fail the session cleanly. */
  lastAttempt: boolean;
}

export type Processor<N extends JobName> = (ctx: JobContext<N>) => Promise<void>;

/** Seconds from when the job was due (added, plus its delay) to when this attempt started. */
function waitSeconds(job: Job): number {
  const due = job.timestamp + (job.delay ?? 0);
  return Math.max(0, (job.processedOn ?? Date.now()) - due) / 1000;
}

/**
 * `storesDown` says whether Postgres or Redis is failing right now: a job that fails on an outage of
 * one is put back (delayed, its attempt not spent) rather than retried on a 250 ms backoff, which a
 * restart of a few seconds would exhaust, leaving e.g. a session PROVISIONING with no job left.
 */
export function wrapProcessor<N extends JobName>(
  name: N,
  log: Logger,
  processor: Processor<N>,
  metrics: Metrics,
  storesDown: () => Promise<boolean> = async () => false,
) {
  const queue = JOBS[name].queue;
  return async (job: Job, token?: string): Promise<void> => {
    const started = performance.now();
    // Retries wait for their backoff on purpose: only a first attempt's wait measures the queue.
    if (job.attemptsMade === 0) metrics.jobWaitSeconds.observe({ queue, job: name }, waitSeconds(job));
    const attempts = job.opts.attempts ?? 1;
    const lastAttempt = job.attemptsMade + 1 >= attempts;
    let outcome: JobOutcome = 'failed';
    try {
      const spec = JOBS[name];
      if (!Value.Check(spec.payload, job.data)) throw new UnrecoverableError(`invalid ${name} payload`);
      const payload = job.data as JobPayload<N>;
      const sessionId = 'sessionId' in payload ? payload.sessionId : undefined;
      const child = log.child({ job: name, jobId: job.id, ...(sessionId && { sessionId }) });
      try {
        await processor({ payload, log: child, job, lastAttempt });
        outcome = 'completed';
      } catch (err) {
        // Checked against the stores themselves: an unreachable pod fails the same way, and must not wait.
        if (token && isDependencyOutage(err) && (await storesDown())) {
          child.warn(
            { err, retryInMs: OUTAGE_RETRY_MS },
            'job hit a store outage; retrying without spending an attempt',
          );
          await job.moveToDelayed(Date.now() + OUTAGE_RETRY_MS, token);
          outcome = 'retry';
          throw new DelayedError();
        }
        child.warn({ err, attempt: job.attemptsMade + 1, attempts }, 'job failed');
        if (err instanceof PermanentJobError) throw new UnrecoverableError(err.message);
        if (!lastAttempt && !(err instanceof UnrecoverableError)) outcome = 'retry';
        throw err;
      }
    } finally {
      const seconds = (performance.now() - started) / 1000;
      metrics.jobDurationSeconds.observe({ queue, job: name, outcome }, seconds);
    }
  };
}
