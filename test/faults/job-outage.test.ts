/**
 * A job that fails because Postgres or Redis is restarting waits for it without spending its
 * attempts. Found by the Postgres-restart fault test: a provision job's 3 attempts (250 ms backoff)
 * ran out within a second of Postgres going down, leaving its session QUEUED/PROVISIONING with no
 * job left to move it. Real BullMQ on the suite's Redis; the outage is what `storesDown` reports.
 */
import { randomBytes } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { JobProducer } from '../../core/queue/producer.ts';
import { createMetrics } from '../../core/metrics/metrics.ts';
import { createLogger } from '../../core/logging/logger.ts';
import { wrapProcessor } from '../../workers/processor.ts';
import { eventually } from '../support/eventually.ts';
import { redisUrl } from '../support/env.ts';

describe('a job meeting a store outage', () => {
  const prefix = `vt_outage_${randomBytes(4).toString('hex')}`;
  const connections: Redis[] = [];
  const redis = () => {
    const r = new Redis(redisUrl(), { maxRetriesPerRequest: null });
    connections.push(r);
    return r;
  };
  let worker: Worker | undefined;
  const producer = new JobProducer({ connection: redis(), prefix });
  afterAll(async () => {
    await worker?.close();
    await producer.close();
    const keys = await connections[0]!.keys(`${prefix}:*`);
    if (keys.length > 0) await connections[0]!.del(...keys);
    for (const r of connections) r.disconnect();
  });

  it('waits for the store to come back instead of exhausting its attempts', async () => {
    const outageUntil = Date.now() + 4_000; // longer than 3 attempts on a 250 ms exponential backoff
    const runs: number[] = [];
    let succeeded = false;
    const handler = wrapProcessor(
      'provision',
      createLogger('silent'),
      async () => {
        runs.push(Date.now());
        if (Date.now() < outageUntil) {
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
        }
        succeeded = true;
      },
      createMetrics(),
      async () => Date.now() < outageUntil,
    );
    worker = new Worker('provision', (job: Job, token?: string) => handler(job, token), {
      connection: redis(),
      prefix,
    });
    await producer.enqueue('provision', { sessionId: 'outage-session' }, { jobId: 'provision-outage' });
    await eventually('the job succeeded after the outage', async () => succeeded, { timeoutMs: 20_000 });
    expect(runs.length).toBeGreaterThan(1);
    // An ordinary failure (the store answers) still spends attempts: the job fails for good after 3.
    let ordinary = 0;
    const failing = wrapProcessor(
      'provision',
      createLogger('silent'),
      async () => {
        ordinary += 1;
        throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:9222'), { code: 'ECONNREFUSED' });
      },
      createMetrics(),
      async () => false,
    );
    await worker.close();
    worker = new Worker('provision', (job: Job, token?: string) => failing(job, token), {
      connection: redis(),
      prefix,
    });
    await producer.enqueue('provision', { sessionId: 'pod-down' }, { jobId: 'provision-pod-down' });
    await eventually('3 attempts spent', async () => ordinary === 3, { timeoutMs: 20_000 });
  }, 60_000);
});
