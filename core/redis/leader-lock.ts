/**
 * A Redis lease for "one active controller": SET NX PX with a random token, renewed while held and
 * released only by its holder (compare-and-delete in Lua), so a paused ex-leader cannot free a lock
 * someone else now holds.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export class LeaderLock {
  readonly token = randomUUID();
  private held = false;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly ttlMs: number,
  ) {}

  get isLeader(): boolean {
    return this.held;
  }

  /** Takes or renews the lease; returns whether this instance leads now. */
  async tryAcquire(): Promise<boolean> {
    if (this.held) {
      this.held = (await this.redis.eval(RENEW, 1, this.key, this.token, this.ttlMs)) === 1;
      if (this.held) return true;
    }
    this.held = (await this.redis.set(this.key, this.token, 'PX', this.ttlMs, 'NX')) === 'OK';
    return this.held;
  }

  /** Asks Redis (not local memory) whether the lease still holds this instance's token: a fence. */
  async stillHeld(): Promise<boolean> {
    return this.held && (await this.redis.get(this.key)) === this.token;
  }

  async release(): Promise<void> {
    if (this.held) await this.redis.eval(RELEASE, 1, this.key, this.token);
    this.held = false;
  }
}
