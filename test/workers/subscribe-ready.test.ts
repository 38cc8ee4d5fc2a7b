/**
 * A dedicated pub/sub connection subscribed at any moment of its start-up never errors: ioredis's
 * ready check (INFO) must not land on a connection already in subscriber mode (redis/ioredis#2037),
 * which logged "ERR Can't execute 'info'" on a healthy `ventus up`.
 */
import { describe, expect, it } from 'vitest';
import { openRedis } from '../../core/services.ts';
import { subscribeWhenReady } from '../../core/redis/subscribe.ts';
import { redisUrl } from '../support/env.ts';

describe('subscribeWhenReady', () => {
  it('subscribes without a connection error whenever it is called during start-up', async () => {
    const errors: string[] = [];
    // The race window is a few ms after connecting: call it at every 0.5 ms step of the first 20 ms.
    for (let step = 0; step < 40; step++) {
      const subscriber = openRedis(redisUrl()).on('error', (err: Error) => errors.push(err.message));
      try {
        await new Promise((resolve) => setTimeout(resolve, step / 2));
        await subscribeWhenReady(subscriber, `subscribe-ready-test-${step}`);
        // Long enough for a failed ready check to surface as an error event.
        await new Promise((resolve) => setTimeout(resolve, 30));
        expect(subscriber.status).toBe('ready');
      } finally {
        subscriber.disconnect();
      }
    }
    expect(errors).toEqual([]);
  });
});
