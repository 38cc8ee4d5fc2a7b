/**
 * The live view of a headful pod: `x11vnc` on the pod's Xvfb display, relayed as a WebSocket at
 * `/vnc` on the agent's port (so the proxy reaches it exactly like CDP: same host, same port).
 *
 * Why a unix socket: with `-nopw`, anyone who can connect sees (and drives) the desktop. A TCP port on
 * 127.0.0.1 is open to every user of the machine (the local driver runs many pods on one host); a
 * socket in the pod's private 0700 temp dir is open only to the pod's own user. Access control is the
 * proxy's viewer JWT, and read-only is enforced there too (proxy/rfb-input.filter.ts).
 *
 * Why started on the first viewer, not with the pod: most sessions are never watched, and an idle
 * x11vnc per warm pod would cost memory and a cold-start delay for nothing. It dies with the pod
 * (stopped by the agent, and in the agent's process group for the driver's group kill).
 *
 * Why clipped: the desktop (Xvfb, sized before any session's viewport is known) is larger than most
 * pages. Chromium's windows are fullscreen at its top-left and the page's emulated viewport sits at
 * their top-left, so x11vnc serves just that rectangle (`-clip`): the viewer's framebuffer is the
 * page, at the session's viewport size, and its pointer coordinates are the page's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { RFB_CLIENT_MAX_MESSAGE } from '../../core/domain/rfb-messages.ts';
import { LineTail, hasExited, stopChild } from './child.util.ts';
import { visibleArea, type Size } from './browser.window.ts';

export const VNC_PATH = '/vnc';
const START_TIMEOUT_MS = 10_000;

/**
 * x11vnc flags: listen only on the unix socket (no TCP port at all: tested, see below), several
 * viewers at once (`-shared`), keep serving after a viewer leaves (`-forever`), no password (see
 * above), no output but errors (`-quiet`), no rc file, no TLS; no XRECORD, XFIXES cursor tracking or
 * wireframing (Xvfb has no window manager traffic worth it). XDAMAGE stays on: Xvfb supports it and
 * it spares x11vnc most of its framebuffer polling, which matters with many pods on one machine.
 */
export function x11vncArgs(display: string, socketPath: string, clip?: Size): string[] {
  return [
    ...(clip ? ['-clip', `${clip.width}x${clip.height}+0+0`] : []),
    '-display',
    display,
    '-unixsock',
    socketPath,
    // `-rfbport 0` alone still leaves a listener on [::]:5900 (Debian's x11vnc 0.9.16, IPv6 built in
    // by default): `-rfbportv6 -1 -noipv6` removes it. (Not `-localhost`: its host check refuses the
    // unix socket's clients after the handshake.)
    '-rfbport',
    '0',
    '-rfbportv6',
    '-1',
    '-noipv6',
    '-shared',
    '-forever',
    '-nopw',
    '-quiet',
    '-norc',
    '-nossl',
    '-noxrecord',
    '-noxfixes',
    '-nowf',
  ];
}

function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

export class VncRelay {
  /** A real desktop: viewers with an interactive link type and click into it. */
  readonly interactive = true;
  /** The running (or last) x11vnc, for tests and shutdown. */
  server: ChildProcess | undefined;
  private starting: Promise<void> | undefined;
  // The proxy relays a viewer's RFB messages (small): a larger one closes the socket unbuffered.
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: RFB_CLIENT_MAX_MESSAGE,
  });
  private readonly socketPath: string;
  private closed = false;
  private viewport: Size | undefined;
  /** The viewport the running (or starting) x11vnc was clipped for. */
  private startedFor: Size | undefined;

  /**
   * `pageWindow` tells the size of the browser's (fullscreen) window: what is shown is clipped to it
   * and to the session's viewport. Without one (or when it cannot tell) the whole desktop is shown.
   */
  constructor(
    private readonly display: string,
    privateDir: string,
    private readonly log: Logger,
    private readonly executable = 'x11vnc',
    private readonly pageWindow: () => Promise<Size | undefined> = () => Promise.resolve(undefined),
  ) {
    this.socketPath = join(privateDir, 'vnc.sock');
  }

  /**
   * Shows the session's viewport from now on (the claim brings it). Viewers of another size are cut;
   * the next viewer gets an x11vnc clipped to the new size.
   */
  fitViewport(viewport: Size | undefined): void {
    if (viewport?.width === this.viewport?.width && viewport?.height === this.viewport?.height) return;
    this.viewport = viewport && { width: viewport.width, height: viewport.height };
    for (const ws of this.wss.clients) ws.terminate();
  }

  /** The http server's 'upgrade' handler for `/vnc`. Never throws. */
  handleUpgrade(req: IncomingMessage, client: Duplex, head: Buffer): void {
    this.ensureServer()
      .then(() => connectUnix(this.socketPath))
      .then((vnc) => {
        if (this.closed) {
          vnc.destroy();
          throw new Error('the pod is stopping');
        }
        this.wss.handleUpgrade(req, client, head, (ws) => this.pipe(ws, vnc));
      })
      .catch((err: unknown) => {
        this.log.warn({ err }, 'live view: VNC server unavailable');
        if (client.writable)
          client.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        client.destroy();
      });
  }

  /** Cuts every viewer (at claim: nobody watches a session through a socket opened before it). */
  disconnectAll(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }

  /** Stops x11vnc and cuts every viewer. */
  async close(): Promise<void> {
    this.closed = true;
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    if (this.server) await stopChild(this.server, 500);
  }

  private pipe(ws: WebSocket, vnc: Socket): void {
    vnc.setNoDelay(true);
    ws.on('message', (data: Buffer) => {
      if (!vnc.write(data)) ws.pause();
    });
    vnc.on('drain', () => ws.resume());
    vnc.on('data', (chunk: Buffer) => ws.send(chunk, { binary: true }));
    const end = (): void => {
      vnc.destroy();
      ws.terminate();
    };
    ws.once('close', end);
    ws.once('error', end);
    vnc.once('close', end);
    vnc.once('error', end);
  }

  private ensureServer(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the pod is stopping'));
    // One x11vnc for all viewers; a new one once the last has died or the viewport has changed.
    const died = this.server !== undefined && hasExited(this.server);
    if (this.starting && this.startedFor === this.viewport && !died) return this.starting;
    const previous = this.starting?.catch(() => undefined);
    this.startedFor = this.viewport;
    const starting = (async () => {
      await previous; // one start at a time: they share the socket path
      const stale = this.server;
      this.server = undefined;
      if (stale && !hasExited(stale)) await stopChild(stale, 500);
      await this.start();
    })().catch((err: unknown) => {
      if (this.starting === starting) this.starting = undefined;
      throw err;
    });
    this.starting = starting;
    return starting;
  }

  /** The desktop's rectangle that holds the page, or undefined for the whole desktop. */
  private async clip(): Promise<Size | undefined> {
    const window = await this.pageWindow().catch((err: unknown) => {
      this.log.warn({ err }, 'live view: no page window size; showing the whole desktop');
      return undefined;
    });
    return window && visibleArea(window, this.viewport);
  }

  private async start(): Promise<void> {
    // A socket left by an x11vnc that died would make the new one fail to bind.
    await rm(this.socketPath, { force: true });
    if (this.closed) throw new Error('the pod is stopping');
    const clip = await this.clip();
    if (this.closed) throw new Error('the pod is stopping');
    const child = spawn(this.executable, x11vncArgs(this.display, this.socketPath, clip), {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.server = child;
    const stderr = new LineTail();
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', () => undefined); // ENOENT: seen below as an exited child
    child.once('exit', (code, signal) => {
      // Not when stopped on purpose: the pod stops, or a new viewport replaced it.
      if (!this.closed && this.server === child)
        this.log.warn({ code, signal, stderr: stderr.toString() }, 'x11vnc exited');
    });
    // x11vnc says nothing when -quiet; it is ready once its socket accepts a connection.
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (hasExited(child)) throw new Error(`x11vnc exited at start\n${stderr.toString()}`);
      if (this.closed) break;
      try {
        (await connectUnix(this.socketPath)).destroy();
        this.log.info({ display: this.display, clip }, 'live view: x11vnc started');
        return;
      } catch {
        await sleep(50);
      }
    }
    await stopChild(child, 500);
    throw new Error(
      this.closed ? 'the pod is stopping' : `x11vnc did not listen within ${START_TIMEOUT_MS} ms`,
    );
  }
}
