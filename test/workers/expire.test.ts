import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import pino from 'pino';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { expireProcessor } from '../../workers/expire.processor.ts';
import { getSession } from '../../core/db/sessions.repository.ts';
import { transitionSession } from '../../core/db/session-transitions.repository.ts';
import { jobIds } from '../../core/queue/jobs.ts';
import type { Services } from '../../core/services.ts';
import type { JobContext } from '../../workers/processor.ts';

/**
 * The provision worker schedules a session's expiry alongside its RUNNING write, so an expire job can
 * fire while the session is still PROVISIONING (provisioning slower than timeout_seconds). It must
 * look again, not drop the expiry. The clock is the allowed double.
 */
describe('expire job', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let services: Services;
  let api: ApiClient;
  let queue: Queue;

  beforeAll(async () => {
    ctx = await TestContext.create();
    server = await ctx.startApi(); // broker only: sessions stay QUEUED until this test moves them
    services = server.services;
    api = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
    queue = new Queue('lifecycle', { connection: services.redis, prefix: services.queuePrefix });
  });
  afterAll(async () => {
    await queue?.close();
    await server?.close();
    await ctx?.close();
  });

  const run = (sessionId: string, now: number) =>
    expireProcessor(
      services,
      () => now,
    )({
      payload: { sessionId },
      log: pino({ level: 'silent' }),
    } as unknown as JobContext<'expire'>);

  it('fired while PROVISIONING, it looks again a second later; once RUNNING and due, it ends the session', async () => {
    const { id } = (await api.createSession({ timeout_seconds: 60 })).body;
    const provisioning = await transitionSession(services.db, {
      id,
      from: ['QUEUED'],
      to: 'PROVISIONING',
      actor: 'test',
      startClock: true,
    });
    const late = provisioning!.expiresAt.getTime() + 5_000; // provisioning outlived the timeout

    await run(id, late);
    expect((await getSession(services.db, id))!.status).toBe('PROVISIONING');
    const again = await queue.getJob(jobIds.expire(id, late + 1000));
    expect(again).toBeDefined();
    expect(await again!.isDelayed()).toBe(true);

    await transitionSession(services.db, { id, from: ['PROVISIONING'], to: 'RUNNING', actor: 'test' });
    await run(id, late + 1000);
    expect(await getSession(services.db, id)).toMatchObject({ status: 'EXPIRED', releaseReason: 'timeout' });
  });

  it('does nothing for a session that ended', async () => {
    const { id } = (await api.createSession()).body;
    await api.release(id);
    const before = (await queue.getJobs(['delayed'])).length;
    await run(id, Date.now() + 3_600_000);
    expect((await getSession(services.db, id))!.status).toBe('COMPLETED');
    expect((await queue.getJobs(['delayed'])).length).toBe(before);
  });
});
