/** Graceful stop on SIGTERM/SIGINT: run the closers in order once, log failures, exit 0. */
import type { Logger } from '../logging/logger.ts';

export function closeOnSignals(log: Logger, ...closers: (() => Promise<void>)[]): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    for (const close of closers)
      await close().catch((err: unknown) => log.error({ err }, 'error while closing'));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
