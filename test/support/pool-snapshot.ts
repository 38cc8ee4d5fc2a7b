/** One atomic look at a pool in Redis: warm pods, and admitted sessions that hold a pod. */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../core/redis/keys.ts';

const SNAPSHOT = `
local warm = redis.call('LLEN', KEYS[1])
local held = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('EXISTS', ARGV[1] .. id .. ':pod') == 1 then held = held + 1 end
end
return {warm, held}`;

export async function poolSnapshot(
  redis: Redis,
  keys: RedisKeys,
  pool: string,
): Promise<{ warm: number; held: number }> {
  const [warm, held] = (await redis.eval(
    SNAPSHOT,
    2,
    keys.poolWarm(pool),
    keys.poolActive(pool),
    `${keys.prefix}:session:`,
  )) as [number, number];
  return { warm, held };
}
