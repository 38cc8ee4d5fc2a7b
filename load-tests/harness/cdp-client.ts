/**
 * A bare CDP client over one WebSocket (`ws`, no Playwright): one request in flight at a time is
 * all the `cdp` scenario needs, and nothing else runs on the socket to disturb the timing. Each
 * answer carries the size of its frame, so throughput counts the bytes that crossed the wire.
 */
import WebSocket from 'ws';

export class CdpError extends Error {
  override name = 'CdpError';
}

export interface CdpAnswer<T> {
  result: T;
  /** Bytes of the answer frame (the JSON text as received). */
  bytes: number;
}

export class CdpClient {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (a: CdpAnswer<unknown>) => void; reject: (e: Error) => void }
  >();
  private closedError: Error | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const message = JSON.parse(data.toString('utf8')) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      if (message.id === undefined) return; // an event: nothing here subscribes to any
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.error) waiter.reject(new CdpError(message.error.message));
      else waiter.resolve({ result: message.result, bytes: data.length });
    });
    socket.on('close', (code) => this.fail(new CdpError(`socket closed (${code})`)));
    socket.on('error', (err) => this.fail(err));
  }

  /**
   * Opens the socket. No per-message compression: the proxy passes bytes through, and Chrome does
   * not offer it; large frames (screenshots are 1–10 MB of base64) need a raised `maxPayload`.
   */
  static connect(url: string, timeoutMs = 30_000, headers: Record<string, string> = {}): Promise<CdpClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, {
        headers,
        perMessageDeflate: false,
        maxPayload: 512 * 2 ** 20,
        handshakeTimeout: timeoutMs,
      });
      socket.once('open', () => resolve(new CdpClient(socket)));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => {
        reject(new CdpError(`upgrade refused: ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
        res.resume();
      });
    });
  }

  send<T = unknown>(method: string, params: object = {}, sessionId?: string): Promise<CdpAnswer<T>> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<CdpAnswer<T>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (a: CdpAnswer<unknown>) => void, reject });
      this.socket.send(JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) }));
    });
  }

  /** The result only, for setup calls. */
  async call<T = unknown>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    return (await this.send<T>(method, params, sessionId)).result;
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
      setTimeout(() => (this.socket.terminate(), resolve()), 2000).unref();
    });
  }

  private fail(err: Error): void {
    this.closedError ??= err;
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }
}
