/** Registers the Lua scripts (one file each in ./lua) on a caller-owned ioredis client. */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');

export interface VentusRedis extends Redis {
  admit(activeKey: string, limitsKey: string, sessionId: string, nowMs: number): Promise<number>;
  claim(warmKey: string, sessionPodKey: string): Promise<string | null>;
  cdpLeave(
    connectionsKey: string,
    proxySessionsKey: string,
    proxyId: string,
    count: string,
    proxyPrefix: string,
    sessionId: string,
  ): Promise<[number, number]>;
  addWarm(
    warmKey: string,
    activeKey: string,
    limitsKey: string,
    podKey: string,
    leaderKey: string,
    podId: string,
    podJson: string,
    leaderToken: string,
  ): Promise<number>;
}

export function withCommands(redis: Redis): VentusRedis {
  const r = redis as VentusRedis;
  if (typeof r.admit !== 'function') {
    redis.defineCommand('admit', { numberOfKeys: 2, lua: lua('admit') });
    redis.defineCommand('claim', { numberOfKeys: 2, lua: lua('claim') });
    redis.defineCommand('addWarm', { numberOfKeys: 5, lua: lua('add-warm') });
    redis.defineCommand('cdpLeave', { numberOfKeys: 2, lua: lua('cdp-leave') });
  }
  return r;
}
