/**
 * The wrapper every processor runs in: parse the payload against the catalog, bind a child logger
 * with the session id, and turn non-retryable errors into BullMQ's UnrecoverableError.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { Value } from 'typebox/value';
import { JOBS, type JobName, type JobPayload } from '../core/queue/jobs.ts';
import type { Logger } from '../core/logging/logger.ts';

/** Thrown by a processor when retrying cannot help (bad payload, session in a state it cannot act on). */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

export interface JobContext<N extends JobName> {
  payload: JobPayload<N>;
  log: Logger;
  job: Job;
  /** True on the last attempt BullMQ will make: the processor's chance to fail the session cleanly. */
  lastAttempt: boolean;
}

export type Processor<N extends JobName> = (ctx: JobContext<N>) => Promise<void>;

export function wrapProcessor<N extends JobName>(name: N, log: Logger, processor: Processor<N>) {
  return async (job: Job): Promise<void> => {
    const spec = JOBS[name];
    if (!Value.Check(spec.payload, job.data)) throw new UnrecoverableError(`invalid ${name} payload`);
    const payload = job.data as JobPayload<N>;
    const child = log.child({ job: name, jobId: job.id, sessionId: payload.sessionId });
    const attempts = job.opts.attempts ?? 1;
    try {
      await processor({ payload, log: child, job, lastAttempt: job.attemptsMade + 1 >= attempts });
    } catch (err) {
      child.warn({ err, attempt: job.attemptsMade + 1, attempts }, 'job failed');
      if (err instanceof PermanentJobError) throw new UnrecoverableError(err.message);
      throw err;
    }
  };
}
