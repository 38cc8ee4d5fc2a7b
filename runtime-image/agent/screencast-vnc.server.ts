/**
 * The live view of a headless pod, as the same `/vnc` WebSocket a headful pod serves: a small RFB
 * server (RFC 6143, security None) whose framebuffer is the newest page's CDP screencast. Each JPEG
 * frame goes out unchanged as one Tight-encoded JPEG rectangle (noVNC decodes it natively), so the
 * proxy, its read-only filter and the viewer page need nothing of their own for headless pods.
 *
 * Watch only: input messages are parsed and ignored (an interactive hand-off needs a headful pod,
 * and the agent says so at GET /live-view). A page whose size changes is announced with the
 * DesktopSize pseudo-encoding.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { RFB, RFB_CLIENT_MAX_MESSAGE, rfbMessageLength } from '../../core/domain/rfb-messages.ts';
import { ScreencastFrames, type JpegFrame } from './screencast.frames.ts';

const ENCODING_TIGHT = 7;
const ENCODING_DESKTOP_SIZE = -223;
/** Size announced when no page has painted yet and the session has no viewport. */
const DEFAULT_SIZE = { width: 1280, height: 720 };
const FIRST_FRAME_WAIT_MS = 2_000;
const NAME = Buffer.from('Ventus session (headless)');

/** ServerInit: the size, a 32-bit true-colour pixel format, and the desktop name. */
export function serverInit(width: number, height: number): Buffer {
  const b = Buffer.alloc(24 + NAME.length);
  b.writeUInt16BE(width, 0);
  b.writeUInt16BE(height, 2);
  // bits-per-pixel 32, depth 24, little-endian, true colour, max 255 each, shifts 16/8/0.
  Buffer.from([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0]).copy(b, 4);
  b.writeUInt32BE(NAME.length, 20);
  NAME.copy(b, 24);
  return b;
}

/** A FramebufferUpdate of one rectangle: the JPEG as Tight (control 0x90, then a compact length). */
export function tightJpegUpdate(frame: Pick<JpegFrame, 'jpeg' | 'width' | 'height'>): Buffer {
  const n = frame.jpeg.length;
  const length =
    n < 0x80
      ? [n]
      : n < 0x4000
        ? [(n & 0x7f) | 0x80, n >> 7]
        : [(n & 0x7f) | 0x80, ((n >> 7) & 0x7f) | 0x80, n >> 14];
  const header = Buffer.alloc(16);
  header.writeUInt16BE(1, 2); // one rectangle
  header.writeUInt16BE(frame.width, 8);
  header.writeUInt16BE(frame.height, 10);
  header.writeInt32BE(ENCODING_TIGHT, 12);
  return Buffer.concat([header, Buffer.from([0x90, ...length]), frame.jpeg]);
}

function desktopSizeUpdate(width: number, height: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16BE(1, 2);
  b.writeUInt16BE(width, 8);
  b.writeUInt16BE(height, 10);
  b.writeInt32BE(ENCODING_DESKTOP_SIZE, 12);
  return b;
}

export class ScreencastVnc {
  readonly interactive = false;
  // The proxy relays a viewer's RFB messages (small): a larger one closes the socket unbuffered.
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: RFB_CLIENT_MAX_MESSAGE,
  });
  private frames: Promise<ScreencastFrames> | undefined;
  private viewers = 0;
  private closed = false;
  private viewport: { width: number; height: number } | undefined;

  constructor(
    private readonly browserWsUrl: string,
    private readonly log: Logger,
  ) {}

  /** The http server's 'upgrade' handler for `/vnc`. Never throws. */
  handleUpgrade(req: IncomingMessage, client: Duplex, head: Buffer): void {
    if (this.closed) {
      client.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      client.destroy();
      return;
    }
    this.wss.handleUpgrade(req, client, head, (ws) => void this.serve(ws));
  }

  /**
   * The session's viewport (the claim brings it): the size announced before the first frame. The
   * frames are the page's viewport already (screencast.frames.ts), so nothing else changes.
   */
  fitViewport(viewport: { width: number; height: number } | undefined): void {
    this.viewport = viewport && { width: viewport.width, height: viewport.height };
  }

  /** Cuts every viewer (at claim: nobody watches a session through a socket opened before it). */
  disconnectAll(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }

  close(): void {
    this.closed = true;
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    void this.frames?.then((f) => f.close()).catch(() => undefined);
    this.frames = undefined;
  }

  private source(): Promise<ScreencastFrames> {
    const existing = this.frames;
    if (existing) return existing;
    const started = ScreencastFrames.start(this.browserWsUrl, this.log);
    this.frames = started;
    started.catch(() => {
      if (this.frames === started) this.frames = undefined;
    });
    return started;
  }

  private async serve(ws: WebSocket): Promise<void> {
    this.viewers++;
    let frames: ScreencastFrames;
    try {
      frames = await this.source();
    } catch (err) {
      this.log.warn({ err }, 'live view: no screencast');
      this.viewers--;
      return void ws.close(1011, 'no screencast');
    }
    let buf = Buffer.alloc(0);
    let phase: 'version' | 'security' | 'init' | 'messages' = 'version';
    let size = frames.latest ?? undefined;
    let sentSeq = 0;
    let wanted = false;
    let desktopSize = false;
    const send = (frame: JpegFrame): void => {
      if (!wanted || frame.seq === sentSeq || !size) return;
      if (frame.width !== size.width || frame.height !== size.height) {
        if (!desktopSize) return; // the viewer cannot resize: keep the last frame that fit
        ws.send(desktopSizeUpdate(frame.width, frame.height));
        size = frame;
      }
      wanted = false;
      sentSeq = frame.seq;
      ws.send(tightJpegUpdate(frame));
    };
    const unsubscribe = frames.onFrame(send);
    ws.once('close', () => {
      unsubscribe();
      if (--this.viewers === 0 && !this.closed) {
        // Nobody watches: stop the screencast (it costs the browser an encode per paint).
        void this.frames?.then((f) => f.close()).catch(() => undefined);
        this.frames = undefined;
      }
    });
    ws.send(Buffer.from('RFB 003.008\n', 'latin1'));
    ws.on('message', (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      for (;;) {
        if (phase === 'version') {
          if (buf.length < 12) return;
          buf = buf.subarray(12);
          phase = 'security';
          ws.send(Buffer.from([1, 1])); // one security type: None
        } else if (phase === 'security') {
          if (buf.length < 1) return;
          if (buf[0] !== 1) return void ws.close(1002, 'security type must be None');
          buf = buf.subarray(1);
          phase = 'init';
          ws.send(Buffer.from([0, 0, 0, 0])); // SecurityResult: OK
        } else if (phase === 'init') {
          if (buf.length < 1) return;
          buf = buf.subarray(1);
          phase = 'messages';
          void this.firstFrame(frames).then((first) => {
            size = first ?? size ?? { ...(this.viewport ?? DEFAULT_SIZE), jpeg: Buffer.alloc(0), seq: 0 };
            if (ws.readyState === ws.OPEN) ws.send(serverInit(size.width, size.height));
            if (frames.latest) send(frames.latest);
          });
        } else {
          let length: number | undefined;
          try {
            length = buf.length > 0 ? rfbMessageLength(buf) : undefined;
          } catch {
            return void ws.close(1002, 'unknown message');
          }
          if (length === undefined || buf.length < length) return;
          const message = buf.subarray(0, length);
          buf = buf.subarray(length);
          if (message[0] === RFB.SetEncodings) {
            const encodings = new Set<number>();
            for (let i = 4; i + 4 <= message.length; i += 4) encodings.add(message.readInt32BE(i));
            desktopSize = encodings.has(ENCODING_DESKTOP_SIZE);
            if (!encodings.has(ENCODING_TIGHT)) return void ws.close(1002, 'the viewer must support Tight');
          } else if (message[0] === RFB.FramebufferUpdateRequest) {
            wanted = true;
            // Non-incremental: the viewer wants the whole picture again, changed or not.
            if (message[1] === 0) sentSeq = 0;
            if (frames.latest && size) send(frames.latest);
          }
          // Anything else (input included) is ignored: this desktop is watch-only.
        }
      }
    });
  }

  /** The first frame, or undefined when no page paints within FIRST_FRAME_WAIT_MS. */
  private firstFrame(frames: ScreencastFrames): Promise<JpegFrame | undefined> {
    if (frames.latest) return Promise.resolve(frames.latest);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        unsubscribe();
        resolve(undefined);
      }, FIRST_FRAME_WAIT_MS);
      const unsubscribe = frames.onFrame((frame) => {
        clearTimeout(timer);
        unsubscribe();
        resolve(frame);
      });
    });
  }
}
