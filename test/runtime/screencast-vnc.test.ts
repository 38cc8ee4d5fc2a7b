/** The headless live view's RFB messages: ServerInit and Tight JPEG rectangles, byte by byte. */
import { describe, expect, it } from 'vitest';
import { serverInit, tightJpegUpdate } from '../../runtime-image/agent/screencast-vnc.server.ts';

/** Tight's compact length (1 to 3 bytes, 7 bits each, low bits first) at `offset`. */
function compactLength(b: Buffer, offset: number): { length: number; bytes: number } {
  let length = 0;
  for (let i = 0; i < 3; i++) {
    const byte = b[offset + i]!;
    length |= (i === 2 ? byte : byte & 0x7f) << (7 * i);
    if (i === 2 || (byte & 0x80) === 0) return { length, bytes: i + 1 };
  }
  throw new Error('unreachable');
}

describe('screencast VNC messages', () => {
  it('ServerInit: size, 32-bit true colour (shifts 16/8/0), name', () => {
    const b = serverInit(1000, 700);
    expect([b.readUInt16BE(0), b.readUInt16BE(2)]).toEqual([1000, 700]);
    expect([...b.subarray(4, 20)]).toEqual([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
    expect(b.subarray(24, 24 + b.readUInt32BE(20)).toString()).toBe('Ventus session (headless)');
  });

  it.each([1, 127, 128, 16_383, 16_384, 300_000])(
    'a FramebufferUpdate of one Tight JPEG rectangle, %i JPEG bytes',
    (n) => {
      const jpeg = Buffer.alloc(n, 0xab);
      const b = tightJpegUpdate({ jpeg, width: 640, height: 480 });
      expect([b[0], b.readUInt16BE(2)]).toEqual([0, 1]); // FramebufferUpdate, one rectangle
      expect([b.readUInt16BE(4), b.readUInt16BE(6), b.readUInt16BE(8), b.readUInt16BE(10)]).toEqual([
        0, 0, 640, 480,
      ]);
      expect(b.readInt32BE(12)).toBe(7); // Tight
      expect(b[16]).toBe(0x90); // JPEG
      const { length, bytes } = compactLength(b, 17);
      expect(length).toBe(n);
      expect(b.length).toBe(17 + bytes + n);
    },
  );
});
