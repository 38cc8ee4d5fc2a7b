/** The benchmark's count of Redis round trips (load-tests/harness/io-counter.ts), against real Redis. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoCounter } from '../../load-tests/harness/io-counter.ts';

describe('IoCounter: Redis round trips', () => {
  const counter = new IoCounter().install();
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    await redis.ping();
  });
  afterAll(() => redis.disconnect());

  it('one command is one round trip; two awaited one after the other are two', async () => {
    counter.take();
    await redis.get('io-counter:x');
    expect(counter.take().redisRoundTrips).toBe(1);
    await redis.del('io-counter:x');
    await redis.publish('io-counter:ch', 'm');
    expect(counter.take().redisRoundTrips).toBe(2);
  });

  it('a pipeline and a transaction (multi … exec) are one round trip each, every command counted', async () => {
    counter.take();
    await redis.pipeline().del('io-counter:x').publish('io-counter:ch', 'm').exec();
    expect(counter.take().redisRoundTrips).toBe(1);
    await redis.multi().del('io-counter:x').publish('io-counter:ch', 'm').exec();
    const counts = counter.take();
    expect(counts.redisRoundTrips).toBe(1);
    expect(counts.redisCommands.get('del')).toBe(1);
    expect(counts.redisCommands.get('publish')).toBe(1);
  });
});
