/**
 * SUBSCRIBE on a dedicated connection, sent once the connection is ready. ioredis (5.8.2 and later)
 * sends CLIENT SETINFO and then its ready check (INFO) after connecting; a SUBSCRIBE sent in between
 * puts the connection in subscriber mode first, the INFO fails ("ERR Can't execute 'info'") and the
 * connection restarts with an error (redis/ioredis#2037). Waiting for `ready` avoids the race.
 */
import type { Redis } from 'ioredis';

export async function subscribeWhenReady(subscriber: Redis, ...channels: string[]): Promise<void> {
  // Only `ready`: a connection error meanwhile is retried by ioredis (and logged by its listener).
  if (subscriber.status !== 'ready') await new Promise((resolve) => subscriber.once('ready', resolve));
  await subscriber.subscribe(...channels);
}
