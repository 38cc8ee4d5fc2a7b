/**
 * Counts what this process sends to Postgres and Redis: every statement (`pg.Client#query`, which
 * pools use too) by its text, every Redis command (Lua scripts by the name they were defined under,
 * BullMQ's and ours) and every round trip (a pipeline or MULTI is one). Installed before the stack
 * starts, so every client the service opens is counted; `exclude` leaves the harness's own client out.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { Pipeline, Redis } from 'ioredis';

export interface IoCounts {
  statements: Map<string, number>;
  redisCommands: Map<string, number>;
  redisRoundTrips: number;
}

const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/** A statement's text on one line, numbered parameters kept, at most 110 characters. */
function label(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 110 ? `${line.slice(0, 107)}...` : line;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Makes `proto[name]` call `note` with its receiver and arguments first, then do what it did. */
function observe(proto: object, name: string, note: (self: unknown, args: unknown[]) => void): void {
  const original = Reflect.get(proto, name) as Method;
  Reflect.set(proto, name, function (this: unknown, ...args: unknown[]) {
    note(this, args);
    return original.apply(this, args);
  });
}

export class IoCounter {
  counts: IoCounts = { statements: new Map(), redisCommands: new Map(), redisRoundTrips: 0 };
  private readonly excluded = new WeakSet<pg.Client>();
  private readonly scripts = new Map<string, string>();

  /** Patches pg and ioredis in this process (once). */
  install(): this {
    observe(pg.Client.prototype, 'query', (client, [first]) => {
      const text = typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text;
      if (text && !this.excluded.has(client as pg.Client)) bump(this.counts.statements, label(text));
    });
    observe(Redis.prototype, 'defineCommand', (_redis, [name, definition]) => {
      this.scripts.set(
        createHash('sha1')
          .update((definition as { lua: string }).lua)
          .digest('hex'),
        String(name),
      );
    });
    observe(Redis.prototype, 'sendCommand', (_redis, [command, stream]) => {
      const { name, args } = command as { name: string; args: unknown[] };
      const sha = String(args[0]);
      const script = name === 'evalsha' || name === 'eval';
      bump(this.counts.redisCommands, script ? `script ${this.scripts.get(sha) ?? sha.slice(0, 8)}` : name);
      // A pipeline's commands arrive with its stream: the pipeline counts once, in exec.
      if (stream === undefined) this.counts.redisRoundTrips++;
    });
    // A transaction (multi … exec) goes out as one pipeline too, but its exec calls the pipeline's
    // exec again: each pipeline counts once.
    const sent = new WeakSet<object>();
    observe(Pipeline.prototype, 'exec', (pipeline) => {
      if (sent.has(pipeline as object)) return;
      sent.add(pipeline as object);
      this.counts.redisRoundTrips++;
    });
    return this;
  }

  /** What was counted since the last take, and a fresh start. */
  take(): IoCounts {
    const counts = this.counts;
    this.counts = { statements: new Map(), redisCommands: new Map(), redisRoundTrips: 0 };
    return counts;
  }

  /** Leaves this client's statements out (the harness's own reads). */
  exclude(client: pg.Client): void {
    this.excluded.add(client);
  }
}
