/**
 * Hands checked WebSocket connections to a kernel relay (kernel-relay.c): one small process beside
 * the proxy, and one beside each pod's agent, that moves their bytes with splice(2), so a CDP message
 * wakes that process instead of a Node event loop (docs/performance.md, twelfth pass). The caller
 * still does everything that decides (the proxy: the token, the route, the limits, the count; the
 * agent: the secret, the path, no Origin) and writes the upgrade request to send on; the relay only
 * connects where it is told, sends that request, and moves bytes until either side goes or the
 * caller says "close".
 *
 * A connection that cannot be handed over (a TLS socket, no relay) is left to the caller, who relays
 * it in Node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { AgentTarget } from './protocol.ts';

/** Bytes seen in one direction (per report, so counters move while a connection lives). */
export type OnBytes = (direction: 'client_to_pod' | 'pod_to_client', bytes: number) => void;

export interface Splice {
  /** Resolves once, when either side closes or fails. */
  closed: Promise<void>;
  destroy(): void;
}

interface Relayed {
  onBytes: OnBytes | undefined;
  resolve: () => void;
}

/** The libuv stream behind a net.Socket: what Node's child_process can pass to a child. */
interface StreamHandle {
  readStop(): number;
  close(): void;
  constructor: { name: string };
}

// A token of the relay's line protocol: printable, no space, nothing JSON would escape.
const PLAIN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

function address(endpoint: AgentTarget['endpoint']): string | undefined {
  // An IP address only: the relay resolves no names (a lookup would stall its every connection).
  if ('host' in endpoint && net.isIP(endpoint.host) === 0) return undefined;
  const words =
    'socketPath' in endpoint ? ['unix', endpoint.socketPath] : ['tcp', endpoint.host, String(endpoint.port)];
  return words.every((w) => PLAIN.test(w)) ? words.join(' ') : undefined;
}

export class KernelRelay {
  private child: ChildProcess | undefined;
  /** Its program could not be started (missing, not executable): not tried again per connection. */
  private unstartable = false;
  private nextId = 1;
  private readonly live = new Map<number, Relayed>();

  /** `env`: the relay's whole environment (Node adds its channel's descriptor number). */
  constructor(
    private readonly binary: string,
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  /** The relay's process id while it runs. */
  get pid(): number | undefined {
    return this.child?.connected ? this.child.pid : undefined;
  }

  /** Connections the relay holds now. */
  get size(): number {
    return this.live.size;
  }

  /**
   * Sends `request` (the upgrade the pod is to see) to `endpoint` and relays `client` with it from
   * then on; the client's socket leaves this process. Undefined when it cannot be handed over.
   */
  relay(
    client: Duplex,
    endpoint: AgentTarget['endpoint'],
    request: Buffer,
    onBytes?: OnBytes,
  ): Splice | undefined {
    const handle = (client as unknown as { _handle?: StreamHandle | null })._handle;
    const where = address(endpoint);
    if (!(client instanceof net.Socket) || !handle || !where) return undefined;
    if (handle.constructor.name !== 'TCP' && handle.constructor.name !== 'Pipe') return undefined; // TLS
    const child = this.running();
    if (!child) return undefined;

    // Whatever the client sent past its upgrade request and Node read already goes first.
    const early = client.readableLength > 0 ? (client.read() as Buffer | null) : null;
    const bytes = early ? Buffer.concat([request, early]) : request;
    handle.readStop();
    const id = this.nextId++;
    let resolve!: () => void;
    const closed = new Promise<void>((r) => (resolve = r));
    this.live.set(id, { onBytes, resolve });
    const failed = (err: unknown) => {
      this.log.warn({ err }, 'kernel relay: hand-over failed');
      this.live.delete(id);
      resolve();
    };
    try {
      // Once the message is written the relay has its own descriptor (SCM_RIGHTS), and ours goes.
      child.send(`relay ${id} ${where} ${bytes.toString('base64')}`, handle as never, (err) => {
        handle.close();
        if (err) failed(err);
      });
    } catch (err) {
      handle.close();
      failed(err);
    }
    // The socket is the relay's now; this process keeps nothing of it.
    (client as unknown as { _handle: null })._handle = null;
    client.destroy();
    if (early) onBytes?.('client_to_pod', early.length);
    return {
      closed,
      destroy: () => {
        if (this.live.has(id) && this.child?.connected) this.child.send(`close ${id}`);
      },
    };
  }

  /**
   * Starts the relay now, not at the first hand-over: its fork and exec (a few ms from a large
   * process) then stay off the first connect's path (a warm pod's claim, a proxy's first client).
   */
  start(): this {
    this.running();
    return this;
  }

  /** Stops the relay: every connection it holds is cut. */
  close(): void {
    this.child?.kill('SIGKILL');
  }

  private running(): ChildProcess | undefined {
    if (this.child?.connected) return this.child;
    if (this.unstartable) return undefined;
    let child: ChildProcess;
    try {
      child = spawn(this.binary, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: this.env });
    } catch (err) {
      this.log.warn({ err }, 'kernel relay: could not start; CDP is relayed in Node');
      this.unstartable = true;
      return undefined;
    }
    child.on('error', (err) => this.log.warn({ err }, 'kernel relay failed'));
    if (child.pid === undefined) {
      this.unstartable = true; // its 'error' says why
      return undefined;
    }
    child.on('message', (line: unknown) => this.heard(line));
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.live.size > 0) this.log.warn({ code, signal, cut: this.live.size }, 'kernel relay exited');
      for (const relayed of this.live.values()) relayed.resolve();
      this.live.clear();
    });
    // It must not keep the proxy's process alive; it exits when its channel closes.
    child.unref();
    (child.channel as { unref?: () => void } | null | undefined)?.unref?.();
    this.child = child;
    return child;
  }

  private heard(line: unknown): void {
    if (typeof line !== 'string') return;
    const [what, idText, toPod, toClient] = line.split(' ');
    const relayed = this.live.get(Number(idText));
    if (!relayed || (what !== 'bytes' && what !== 'closed')) return;
    if (Number(toPod) > 0) relayed.onBytes?.('client_to_pod', Number(toPod));
    if (Number(toClient) > 0) relayed.onBytes?.('pod_to_client', Number(toClient));
    if (what === 'closed') {
      this.live.delete(Number(idText));
      relayed.resolve();
    }
  }
}
