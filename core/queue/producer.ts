/** Enqueues catalogued jobs on caller-owned connections; validates every payload first. */
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { Value } from 'typebox/value';
import { JOBS, QUEUE_NAMES, type JobName, type JobPayload, type QueueName } from './jobs.ts';

export interface QueueSettings {
  connection: Redis;
  /** BullMQ key prefix; isolates installations and tests. */
  prefix: string;
}

export class JobProducer {
  private readonly queues: Record<QueueName, Queue>;

  constructor(settings: QueueSettings) {
    this.queues = Object.fromEntries(
      QUEUE_NAMES.map((name) => [
        name,
        new Queue(name, { connection: settings.connection, prefix: settings.prefix }),
      ]),
    ) as Record<QueueName, Queue>;
  }

  async enqueue<N extends JobName>(
    name: N,
    payload: JobPayload<N>,
    options: JobsOptions & { jobId: string },
  ): Promise<void> {
    const spec = JOBS[name];
    if (!Value.Check(spec.payload, payload)) throw new Error(`invalid payload for job ${name}`);
    await this.queues[spec.queue].add(name, payload, {
      attempts: spec.attempts,
      backoff: { type: 'exponential', delay: 250 },
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600 },
      ...options,
    });
  }

  /**
   * Runs `name` every `everyMs` (a BullMQ job scheduler, id = the job's name). Every process may call
   * it: the scheduler is one per queue and name, so replicas update it instead of adding runs.
   */
  async schedule<N extends JobName>(name: N, payload: JobPayload<N>, everyMs: number): Promise<void> {
    const spec = JOBS[name];
    if (!Value.Check(spec.payload, payload)) throw new Error(`invalid payload for job ${name}`);
    await this.queues[spec.queue].upsertJobScheduler(
      name,
      { every: everyMs },
      {
        name,
        data: payload,
        opts: { attempts: spec.attempts, removeOnComplete: true, removeOnFail: { age: 24 * 3600 } },
      },
    );
  }

  /** Jobs per queue in the states operators watch (one count script per queue). */
  async jobCounts(): Promise<
    { queue: QueueName; counts: Record<'waiting' | 'delayed' | 'active' | 'failed', number> }[]
  > {
    return Promise.all(
      QUEUE_NAMES.map(async (queue) => {
        const c = await this.queues[queue].getJobCounts('waiting', 'delayed', 'active', 'failed');
        return {
          queue,
          counts: {
            waiting: c.waiting ?? 0,
            delayed: c.delayed ?? 0,
            active: c.active ?? 0,
            failed: c.failed ?? 0,
          },
        };
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
  }
}
