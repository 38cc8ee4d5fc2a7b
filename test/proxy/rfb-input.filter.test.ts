/** The read-only live view filter: RFB client messages, whole or split anywhere across frames. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RFB, RfbInputFilter, RfbProtocolError } from '../../proxy/rfb-input.filter.ts';

const HANDSHAKE = Buffer.concat([Buffer.from('RFB 003.008\n', 'latin1'), Buffer.from([1]), Buffer.from([1])]);

const msg = {
  setPixelFormat: () => Buffer.concat([Buffer.from([RFB.SetPixelFormat, 0, 0, 0]), Buffer.alloc(16, 7)]),
  setEncodings: (n: number) => {
    const b = Buffer.alloc(4 + 4 * n);
    b[0] = RFB.SetEncodings;
    b.writeUInt16BE(n, 2);
    for (let i = 0; i < n; i++) b.writeInt32BE(i - 3, 4 + 4 * i);
    return b;
  },
  updateRequest: () => Buffer.from([RFB.FramebufferUpdateRequest, 1, 0, 0, 0, 0, 3, 32, 2, 88]),
  key: () => Buffer.from([RFB.KeyEvent, 1, 0, 0, 0, 0, 0, 0x61]),
  pointer: () => Buffer.from([RFB.PointerEvent, 1, 0, 10, 0, 20]),
  cutText: (text: string) => {
    const b = Buffer.alloc(8 + text.length);
    b[0] = RFB.ClientCutText;
    b.writeInt32BE(text.length, 4);
    b.write(text, 8, 'latin1');
    return b;
  },
  extendedCutText: (n: number) => {
    const b = Buffer.alloc(8 + n, 9);
    b.fill(0, 0, 8);
    b[0] = RFB.ClientCutText;
    b.writeInt32BE(-n, 4);
    return b;
  },
  fence: (payload: number) => {
    const b = Buffer.alloc(9 + payload, 5);
    b.fill(0, 0, 9);
    b[0] = RFB.ClientFence;
    b[8] = payload;
    return b;
  },
  continuous: () => Buffer.from([RFB.EnableContinuousUpdates, 1, 0, 0, 0, 0, 3, 32, 2, 88]),
  desktopSize: (screens: number) => {
    const b = Buffer.alloc(8 + 16 * screens);
    b[0] = RFB.SetDesktopSize;
    b[6] = screens;
    return b;
  },
  qemuKey: () => Buffer.from([RFB.QemuClientMessage, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0, 0x1e]),
};

const drain = (filter: RfbInputFilter, chunks: Buffer[]) => Buffer.concat(chunks.map((c) => filter.push(c)));

/** Cuts `buf` at the given offsets (sorted, deduplicated). */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    parts.push(buf.subarray(last, p));
    last = p;
  }
  parts.push(buf.subarray(last));
  return parts;
}

describe('RfbInputFilter, read-only', () => {
  const viewing = [
    msg.setPixelFormat(),
    msg.setEncodings(12),
    msg.updateRequest(),
    msg.fence(4),
    msg.continuous(),
  ];
  const input = [
    msg.key(),
    msg.pointer(),
    msg.cutText('secret'),
    msg.extendedCutText(40),
    msg.desktopSize(2),
    msg.qemuKey(),
    Buffer.from([RFB.Xvp, 0, 1, 2]),
  ];

  it('passes the handshake and viewing messages, drops every input message', () => {
    const stream = [HANDSHAKE, ...viewing.flatMap((v, i) => [v, input[i % input.length]!]), ...input];
    const filter = new RfbInputFilter(true);
    expect(drain(filter, [Buffer.concat(stream)])).toEqual(Buffer.concat([HANDSHAKE, ...viewing]));
    expect(filter.dropped).toBe(viewing.length + input.length);
  });

  it('gives the same result however the stream is split across WebSocket frames', () => {
    const stream = Buffer.concat([HANDSHAKE, ...viewing, ...input, ...viewing, msg.pointer()]);
    const expected = Buffer.concat([HANDSHAKE, ...viewing, ...viewing]);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: stream.length }), { maxLength: 40 }), (cuts) => {
        expect(drain(new RfbInputFilter(true), split(stream, cuts))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('byte by byte too', () => {
    const stream = Buffer.concat([HANDSHAKE, msg.key(), msg.updateRequest(), msg.pointer()]);
    const filter = new RfbInputFilter(true);
    const out = drain(
      filter,
      [...stream].map((b) => Buffer.from([b])),
    );
    expect(out).toEqual(Buffer.concat([HANDSHAKE, msg.updateRequest()]));
  });

  it('skips a huge clipboard without buffering it, then filters what follows', () => {
    const big = msg.cutText('x'.repeat(3 * 1024 * 1024));
    const filter = new RfbInputFilter(true);
    const chunks = [HANDSHAKE, ...split(big, [5, 70_000, 2_000_000]), msg.updateRequest(), msg.key()];
    expect(drain(filter, chunks)).toEqual(Buffer.concat([HANDSHAKE, msg.updateRequest()]));
  });

  it('fails closed on an unknown message type, another security type, or RFB 3.3', () => {
    expect(() => drain(new RfbInputFilter(true), [HANDSHAKE, Buffer.from([77, 0, 0])])).toThrow(
      RfbProtocolError,
    );
    const vncAuth = Buffer.concat([Buffer.from('RFB 003.008\n', 'latin1'), Buffer.from([2])]);
    expect(() => new RfbInputFilter(true).push(vncAuth)).toThrow(/security type 2/);
    expect(() => new RfbInputFilter(true).push(Buffer.from('RFB 003.003\n', 'latin1'))).toThrow(/version/);
  });
});

describe('RfbInputFilter, interactive', () => {
  it('passes everything untouched', () => {
    const stream = Buffer.concat([HANDSHAKE, msg.key(), msg.pointer(), msg.cutText('hi'), Buffer.from([77])]);
    const filter = new RfbInputFilter(false);
    expect(drain(filter, split(stream, [3, 17, 20]))).toEqual(stream);
    expect(filter.dropped).toBe(0);
  });
});
