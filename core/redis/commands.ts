/** Registers the Lua scripts (one file each in ./lua) on a caller-owned ioredis client. */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');

export interface VentusRedis extends Redis {
  admit(
    activeKey: string,
    limitsKey: string,
    ownersKey: string,
    workspaceLiveKey: string,
    workspaceKnownKey: string,
    sessionId: string,
    nowMs: number,
    workspaceId: string,
    quota: number,
  ): Promise<number>;
  releaseSlot(
    activeKey: string,
    ownersKey: string,
    releasesKey: string,
    sessionId: string,
    nowMs: number,
    workspacePrefix: string,
    windowMs: number,
    record: '1' | '0',
  ): Promise<number>;
  syncWorkspace(
    liveKey: string,
    knownKey: string,
    nowMs: number,
    graceMs: number,
    markerMs: number,
    workspaceId: string,
    ...sessions: (string | number)[]
  ): Promise<number>;
  publishLimits(limitsKey: string, maxTotal: number, minReady: number, version: number): Promise<number>;
  claim(warmKey: string, sessionPodKey: string): Promise<string | null>;
  releaseMarker(markerKey: string, token: string): Promise<number>;
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
    redis.defineCommand('admit', { numberOfKeys: 5, lua: lua('admit') });
    redis.defineCommand('releaseSlot', { numberOfKeys: 3, lua: lua('release-slot') });
    redis.defineCommand('syncWorkspace', { numberOfKeys: 2, lua: lua('sync-workspace') });
    redis.defineCommand('publishLimits', { numberOfKeys: 1, lua: lua('publish-limits') });
    redis.defineCommand('claim', { numberOfKeys: 2, lua: lua('claim') });
    redis.defineCommand('addWarm', { numberOfKeys: 5, lua: lua('add-warm') });
    redis.defineCommand('cdpLeave', { numberOfKeys: 2, lua: lua('cdp-leave') });
    redis.defineCommand('releaseMarker', { numberOfKeys: 1, lua: lua('release-marker') });
  }
  return r;
}
