/**
 * A minimal CDP client over one WebSocket, with flattened sessions (`sessionId` on each message).
 * The agent only needs a handful of commands, so no protocol library.
 */
import WebSocket from 'ws';

export interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

interface Pending {
  method: string;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
}

export class CdpError extends Error {
  constructor(
    readonly method: string,
    message: string,
  ) {
    super(`${method}: ${message}`);
  }
}

export class CdpConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(event: CdpEvent) => void>();
  private closedError: Error | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => this.onMessage(data));
    ws.on('close', () => this.failAll(new Error('CDP connection closed')));
    ws.on('error', (err) => this.failAll(err));
  }

  static async connect(url: string, timeoutMs: number): Promise<CdpConnection> {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new CdpConnection(ws);
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  send<T = Record<string, unknown>>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (r: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  /** Subscribes to every event (all sessions); returns the unsubscribe function. */
  onEvent(listener: (event: CdpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.failAll(new Error('CDP connection closed'));
    this.ws.terminate();
  }

  private onMessage(data: WebSocket.RawData): void {
    let msg: {
      id?: number;
      method?: string;
      params?: Record<string, unknown>;
      sessionId?: string;
      result?: unknown;
      error?: { message?: string };
    };
    try {
      msg = JSON.parse((data as Buffer).toString('utf8')) as typeof msg; // default binaryType: a Buffer
    } catch {
      return;
    }
    if (msg.id !== undefined) {
      const pending = this.pending.get(msg.id);
      if (!pending) return;
      this.pending.delete(msg.id);
      if (msg.error) pending.reject(new CdpError(pending.method, msg.error.message ?? 'unknown error'));
      else pending.resolve(msg.result ?? {});
      return;
    }
    if (!msg.method) return;
    const event: CdpEvent = { method: msg.method, params: msg.params ?? {}, sessionId: msg.sessionId };
    for (const listener of this.listeners) listener(event);
  }

  private failAll(err: Error): void {
    this.closedError ??= err;
    for (const pending of this.pending.values()) pending.reject(err);
    this.pending.clear();
  }
}
