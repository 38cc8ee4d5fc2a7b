/**
 * Structured logs (pino) that pass through the scrubber: secrets never reach a log line. Every
 * part of a line is scrubbed: the merged object, child-logger bindings, the message, interpolated
 * arguments, and errors (message and stack, which may embed a URL with a token).
 */
import { pino, type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { scrub, scrubUrl } from '../domain/scrubber.ts';

export type { Logger };

/** An Error as JSON (type, message, stack, own fields), with tokens removed; the stack is worth keeping. */
function errorView(err: Error): unknown {
  return scrub(pino.stdSerializers.err(err));
}

/** Fastify logs its request and reply objects: keep what identifies them, never their headers. */
function httpView(key: string, value: object): unknown {
  const v = value as { method?: unknown; url?: unknown; ip?: unknown; statusCode?: unknown };
  if (key === 'req' && typeof v.method === 'string' && typeof v.url === 'string')
    return {
      method: v.method,
      url: scrubUrl(v.url),
      ...(typeof v.ip === 'string' && { remoteAddress: v.ip }),
    };
  if (key === 'res' && typeof v.statusCode === 'number') return { statusCode: v.statusCode };
  return undefined;
}

/** The merged object of a log line, scrubbed. */
export function scrubLogObject(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (value instanceof Error) out[key] = errorView(value);
    else if (value && typeof value === 'object' && (key === 'req' || key === 'res'))
      out[key] = httpView(key, value) ?? scrub(value);
    else out[key] = value;
  }
  return scrub(out) as Record<string, unknown>;
}

/**
 * Where logs go by default: stderr (stdout stays free for the CLI's `--json` output), as JSON lines,
 * or human-readable lines (pino-pretty) when stderr is a terminal. Lines are scrubbed before either.
 */
function defaultDestination(): DestinationStream {
  if (!process.stderr.isTTY) return pino.destination(2);
  return pretty({
    destination: 2,
    sync: true,
    colorize: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,service',
  });
}

/** `destination` is for tests. */
export function createLogger(
  level: string,
  bindings: Record<string, string> = {},
  destination: DestinationStream = defaultDestination(),
): Logger {
  const root = pino(
    {
      level,
      base: scrub(bindings) as Record<string, unknown>,
      formatters: { log: (obj) => scrubLogObject(obj) },
      // Errors are serialized (and scrubbed) by the `log` formatter above; pino's own would redo it.
      serializers: { err: (err: unknown) => err },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a, i) => {
            // The message and its interpolated values (%s, %o, %j) may carry a token.
            if (typeof a === 'string') return scrubUrl(a);
            if (i > 0 && a !== null && typeof a === 'object') return scrub(a);
            return a;
          }) as typeof args;
          const first = scrubbed[0];
          // `log.error(err)` makes err.message the message: use a scrubbed copy of it instead.
          if (first instanceof Error && typeof scrubbed[1] !== 'string')
            scrubbed.splice(0, 1, { err: first } as never, scrubUrl(first.message) as never);
          method.apply(this, scrubbed);
        },
      },
    },
    destination,
  );
  // pino passes child bindings through no formatter (it resets `formatters.bindings` for children),
  // so scrub them on the way in. Children inherit this method, grandchildren included.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with each logger's own `this`
  const child = root.child;
  root.child = function scrubbedChild(this: Logger, b: Bindings, options?: ChildLoggerOptions) {
    return Reflect.apply(child, this, [scrub(b), options]) as Logger;
  } as unknown as Logger['child'];
  return root;
}
