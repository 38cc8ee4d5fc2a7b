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

/** Replaces `proto[name]` with what `wrap` makes of it. */
function patch(proto: object, name: string, wrap: (original: Method) => Method): void {
  Reflect.set(proto, name, wrap(Reflect.get(proto, name) as Method));
}

export class IoCounter {
  counts: IoCounts = { statements: new Map(), redisCommands: new Map(), redisRoundTrips: 0 };
  private readonly excluded = new WeakSet<pg.Client>();
  private readonly scripts = new Map<string, string>();

  /** Patches pg and ioredis in this process (once). */
  install(): this {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const counter = this;
    patch(
      pg.Client.prototype,
      'query',
      (query) =>
        function (this: unknown, ...args: unknown[]) {
          const first = args[0];
          const text = typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text;
          if (text && !counter.excluded.has(this as pg.Client)) bump(counter.counts.statements, label(text));
          return query.apply(this, args);
        },
    );
    patch(
      Redis.prototype,
      'defineCommand',
      (define) =>
        function (this: unknown, ...args: unknown[]) {
          const [name, definition] = args as [string, { lua: string }];
          counter.scripts.set(createHash('sha1').update(definition.lua).digest('hex'), name);
          return define.apply(this, args);
        },
    );
    patch(
      Redis.prototype,
      'sendCommand',
      (send) =>
        function (this: unknown, ...args: unknown[]) {
          const [command, stream] = args as [{ name: string; args: unknown[] }, unknown];
          const script = command.name === 'evalsha' || command.name === 'eval';
          const sha = String(command.args[0]);
          bump(
            counter.counts.redisCommands,
            script ? `script ${counter.scripts.get(sha) ?? sha.slice(0, 8)}` : command.name,
          );
          // A pipeline's commands arrive with its stream: the pipeline counts once, in exec.
          if (stream === undefined) counter.counts.redisRoundTrips++;
          return send.apply(this, args);
        },
    );
    patch(
      Pipeline.prototype,
      'exec',
      (exec) =>
        function (this: unknown, ...args: unknown[]) {
          counter.counts.redisRoundTrips++;
          return exec.apply(this, args);
        },
    );
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
