/** Structured logs (pino) that pass through the scrubber: secrets never reach a log line. */
import { pino, type Logger } from 'pino';
import { scrub, scrubUrl } from '../domain/scrubber.ts';

export type { Logger };

/** Logs go to stderr, so stdout stays free for the CLI's `--json` output. */
export function createLogger(level: string, bindings: Record<string, string> = {}): Logger {
  return pino(
    {
      level,
      base: { ...bindings },
      formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          // Scrub a message string too (it may embed a URL with a token).
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubUrl(a) : a)) as typeof args;
          method.apply(this, scrubbed);
        },
      },
    },
    pino.destination(2),
  );
}
