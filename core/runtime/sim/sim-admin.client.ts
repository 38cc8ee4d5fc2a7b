/**
 * The sim driver's way to the shared server's admin API: finds the server through its state file
 * (starting it when asked to), remembers it, and finds it again if it was replaced.
 */
import { ensureSimServer, findSimServer, type SimServer } from './sim-server.launcher.ts';

/** An admin answer, with the server that gave it (pod URLs are built from it). */
export interface AdminAnswer {
  server: SimServer;
  res: Response;
}

/** A request failed before any answer (fetch's TypeError with a network cause): the server may be gone. */
function unreachable(err: unknown): boolean {
  return err instanceof TypeError && (err as { cause?: unknown }).cause !== undefined;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class SimAdminClient {
  private server: SimServer | undefined;
  private starting: Promise<SimServer> | undefined;

  constructor(
    private readonly stateDir: string,
    private readonly startTimeoutMs: number,
  ) {}

  /**
   * One admin request. With `start`, a server is started if none runs; without, the answer is
   * undefined when none runs (no server, no pods). A request that finds the server gone is retried
   * once if another server has replaced it.
   */
  async request(path: string, init: RequestInit, start: true): Promise<AdminAnswer>;
  async request(path: string, init: RequestInit, start: false): Promise<AdminAnswer | undefined>;
  async request(path: string, init: RequestInit, start: boolean): Promise<AdminAnswer | undefined> {
    const signal = init.signal ?? undefined;
    const send = async (server: SimServer): Promise<AdminAnswer> => ({
      server,
      res: await fetch(`${server.baseUrl}${path}`, {
        signal: AbortSignal.timeout(10_000),
        ...init,
        headers: { 'content-type': 'application/json' },
      }),
    });
    const first = await this.locate(start, signal);
    if (!first) return undefined;
    try {
      return await send(first);
    } catch (err) {
      if (!unreachable(err) || signal?.aborted) throw err;
      if (this.server === first) this.server = undefined;
      const next = await this.locate(start, signal);
      if (!next) return undefined;
      if (next.pid === first.pid && next.baseUrl === first.baseUrl) throw err;
      return send(next);
    }
  }

  private async locate(start: boolean, signal: AbortSignal | undefined): Promise<SimServer | undefined> {
    if (this.server) return this.server;
    if (!start) return (this.server = await findSimServer(this.stateDir));
    // One start per client however many pods are created at once (and one per state dir across
    // processes: server.lock). A caller may stop waiting; the start itself goes on.
    this.starting ??= ensureSimServer(this.stateDir, { timeoutMs: this.startTimeoutMs }).finally(
      () => (this.starting = undefined),
    );
    const started = signal ? await abortable(this.starting, signal) : await this.starting;
    return (this.server = started);
  }
}
