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

import { RFB, RfbProtocolError, rfbMessageLength } from '../core/domain/rfb-messages.ts';

export { RFB, RfbProtocolError } from '../core/domain/rfb-messages.ts';

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

type Phase = 'version' | 'security' | 'client-init' | 'messages';

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
