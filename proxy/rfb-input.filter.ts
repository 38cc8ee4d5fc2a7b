/**
 * Read-only live view, enforced where the viewer cannot touch it: a streaming parser of the RFB
 * (VNC, RFC 6143) client-to-server byte stream that drops every message that would change the
 * remote desktop (keys, pointer, clipboard, desktop resize, power actions) and passes the ones a
 * viewer needs to see (pixel format, encodings, update requests, fences).
 *
 * Stream, not frames: WebSocket frames carry arbitrary slices of the RFB stream (noVNC batches several
 * messages per frame, and a message may span frames), so the parser keeps state across `push` calls
 * and decides per complete message. It fails closed: a message type it does not know, a security
 * type other than None, or a protocol version it does not speak throws, and the proxy closes the
 * connection rather than guess a length and let input slip through.
 */

/** The RFB client-to-server message types (RFC 6143 §7.5 and the registered extensions noVNC sends). */
export const RFB = {
  SetPixelFormat: 0,
  SetEncodings: 2,
  FramebufferUpdateRequest: 3,
  KeyEvent: 4,
  PointerEvent: 5,
  ClientCutText: 6,
  EnableContinuousUpdates: 150,
  ClientFence: 248,
  Xvp: 250,
  SetDesktopSize: 251,
  QemuClientMessage: 255,
} as const;

/** What a read-only viewer may not send: anything that types, clicks, pastes, resizes or reboots. */
const INPUT_TYPES = new Set<number>([
  RFB.KeyEvent,
  RFB.PointerEvent,
  RFB.ClientCutText,
  RFB.Xvp,
  RFB.SetDesktopSize,
  RFB.QemuClientMessage,
]);

/** A message bigger than this (a huge clipboard, encodings list) is skipped, never buffered. */
const MAX_BUFFERED = 1024 * 1024;

export class RfbProtocolError extends Error {
  override name = 'RfbProtocolError';
}

type Phase = 'version' | 'security' | 'client-init' | 'messages';

/**
 * The length of the message at the start of `buf`, or undefined when more bytes are needed to know.
 * Throws on a type no viewer should send.
 */
export function rfbMessageLength(buf: Buffer): number | undefined {
  const type = buf[0];
  if (type === undefined) return undefined;
  const need = (n: number): boolean => buf.length >= n;
  switch (type) {
    case RFB.SetPixelFormat:
      return 20;
    case RFB.SetEncodings:
      return need(4) ? 4 + 4 * buf.readUInt16BE(2) : undefined;
    case RFB.FramebufferUpdateRequest:
      return 10;
    case RFB.KeyEvent:
      return 8;
    case RFB.PointerEvent:
      return 6;
    case RFB.ClientCutText:
      // Extended clipboard (a negative length) carries |length| bytes, like the plain form.
      return need(8) ? 8 + Math.abs(buf.readInt32BE(4)) : undefined;
    case RFB.EnableContinuousUpdates:
      return 10;
    case RFB.ClientFence:
      return need(9) ? 9 + buf.readUInt8(8) : undefined;
    case RFB.Xvp:
      return 4;
    case RFB.SetDesktopSize:
      return need(8) ? 8 + 16 * buf.readUInt8(6) : undefined;
    case RFB.QemuClientMessage:
      // Subtype 0 is the QEMU extended key event, the only one noVNC sends.
      if (!need(2)) return undefined;
      if (buf[1] === 0) return 12;
      throw new RfbProtocolError(`unsupported QEMU client message subtype ${buf[1]}`);
    default:
      throw new RfbProtocolError(`unknown RFB client message type ${type}`);
  }
}

/**
 * One connection's filter. `push(chunk)` returns the bytes to forward to the server (possibly empty);
 * throws {@link RfbProtocolError} when the stream is not one a viewer sends.
 */
export class RfbInputFilter {
  private phase: Phase = 'version';
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes still to drop (a dropped message longer than what has arrived). */
  private skipping = 0;
  /** Bytes still to pass untouched (a large passed message, streamed instead of buffered). */
  private passing = 0;
  /** Messages dropped so far (metrics, tests). */
  dropped = 0;

  constructor(private readonly readOnly: boolean) {}

  push(chunk: Buffer): Buffer {
    // Interactive viewers send what they like; parsing them would only risk breaking a valid client.
    if (!this.readOnly) return chunk;
    const out: Buffer[] = [];
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      if (this.skipping > 0) {
        const n = Math.min(this.skipping, buf.length);
        this.skipping -= n;
        buf = buf.subarray(n);
      }
      if (this.passing > 0) {
        const n = Math.min(this.passing, buf.length);
        this.passing -= n;
        out.push(buf.subarray(0, n));
        buf = buf.subarray(n);
      }
      if (buf.length === 0) break;
      const length = this.nextLength(buf);
      if (length === undefined) break;
      if (length > buf.length && length > MAX_BUFFERED) {
        if (this.isInput(buf)) {
          this.dropped += 1;
          this.skipping = length;
        } else {
          this.passing = length;
        }
        continue;
      }
      if (length > buf.length) break;
      if (!this.isInput(buf)) out.push(buf.subarray(0, length));
      else this.dropped += 1;
      buf = buf.subarray(length);
      this.advance();
    }
    this.pending = Buffer.from(buf);
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  private isInput(buf: Buffer): boolean {
    return this.phase === 'messages' && INPUT_TYPES.has(buf[0]!);
  }

  /** After a whole handshake step or message: the next phase. */
  private advance(): void {
    if (this.phase === 'version') this.phase = 'security';
    else if (this.phase === 'security') this.phase = 'client-init';
    else if (this.phase === 'client-init') this.phase = 'messages';
  }

  private nextLength(buf: Buffer): number | undefined {
    switch (this.phase) {
      case 'version': {
        if (buf.length < 12) return undefined;
        const version = buf.subarray(0, 12).toString('latin1');
        // 3.7 and 3.8 have the client choose the security type; 3.3 would not, and is not spoken here.
        if (version !== 'RFB 003.008\n' && version !== 'RFB 003.007\n')
          throw new RfbProtocolError('unsupported RFB protocol version');
        return 12;
      }
      case 'security':
        // The pod's VNC server offers None only (it is reachable only through this proxy); any other
        // type would make the client send an auth exchange this parser does not follow.
        if (buf[0] !== 1) throw new RfbProtocolError(`security type ${buf[0]} is not None`);
        return 1;
      case 'client-init':
        return 1;
      case 'messages':
        return rfbMessageLength(buf);
    }
  }
}
