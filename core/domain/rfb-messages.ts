/**
 * The RFB (VNC, RFC 6143) client-to-server messages: types and lengths. Pure, shared by the proxy's
 * read-only filter and the pod agent's screencast VNC server.
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

/**
 * The largest WebSocket message a viewer may send (its RFB client messages: a few bytes each, a
 * clipboard paste the largest). Every WebSocket server that reads a viewer's stream (the proxy's live
 * view, the pod agent's VNC relay and screencast server) caps its messages here: `ws` would otherwise
 * buffer up to 100 MiB per message.
 */
export const RFB_CLIENT_MAX_MESSAGE = 64 * 1024;
/** The largest message the proxy accepts from a pod's VNC (a full-screen raw framebuffer update fits). */
export const RFB_SERVER_MAX_MESSAGE = 32 * 1024 * 1024;

export class RfbProtocolError extends Error {
  override name = 'RfbProtocolError';
}

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
