/**
 * Turns timestamped JPEG frames (a screencast) into one WebM with ffmpeg. Chromium's screencast sends
 * a frame only when the page repaints, so frames are irregular: each is shown until the next one
 * (ffmpeg's concat demuxer with per-file durations, variable frame rate out), which keeps an idle
 * session's video tiny and its timeline true.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LineTail, stopChild } from './child.util.ts';

export interface Frame {
  /** Absolute path of the JPEG. */
  file: string;
  /** When it was painted (ms, any monotonic clock shared by the frames and `endMs`). */
  atMs: number;
  width: number;
  height: number;
}

export interface EncodeResult {
  file: string;
  durationSeconds: number;
  frames: number;
}

/** The shortest time a frame is shown: a frame that arrived right before the stop still counts. */
const MIN_FRAME_MS = 40;

/** Width and height from a JPEG's SOFn marker, or undefined when it has none. */
export function jpegSize(buf: Buffer): { width: number; height: number } | undefined {
  let i = 2; // after SOI
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) return undefined;
    const marker = buf[i + 1]!;
    const length = buf.readUInt16BE(i + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    i += 2 + length;
  }
  return undefined;
}

const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2);

/** The concat demuxer's script: every frame with how long it stays on screen. */
export function concatScript(frames: Frame[], endMs: number): string {
  const lines = ['ffconcat version 1.0'];
  frames.forEach((f, i) => {
    const next = frames[i + 1]?.atMs ?? endMs;
    lines.push(
      `file '${basename(f.file)}'`,
      `duration ${(Math.max(MIN_FRAME_MS, next - f.atMs) / 1000).toFixed(3)}`,
    );
  });
  // The demuxer ignores the last entry's duration unless the file is listed once more.
  const last = frames.at(-1);
  if (last) lines.push(`file '${basename(last.file)}'`);
  return lines.join('\n') + '\n';
}

/**
 * Encodes `frames` (all in `dir`) to `<dir>/recording.webm`: VP8 (libvpx, in every Debian ffmpeg),
 * realtime speed settings (the encode runs at teardown, on the pod's CPU), the first frame's size
 * with later frames of another size scaled and padded into it.
 */
export async function encodeWebm(
  dir: string,
  frames: Frame[],
  endMs: number,
  opts: { ffmpeg?: string; timeoutMs?: number } = {},
): Promise<EncodeResult> {
  const first = frames[0];
  if (!first) throw new Error('no frames to encode');
  const script = join(dir, 'frames.ffconcat');
  const out = join(dir, 'recording.webm');
  await writeFile(script, concatScript(frames, endMs));
  const [w, h] = [even(first.width), even(first.height)];
  const filter =
    `scale=${w}:${h}:force_original_aspect_ratio=decrease,` +
    `pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:color=white,format=yuv420p`;
  const args = [
    ...['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'concat', '-safe', '0', '-i', script],
    ...['-vf', filter, '-vsync', 'vfr'],
    ...[
      '-c:v',
      'libvpx',
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
      '-b:v',
      '1M',
      '-qmin',
      '4',
      '-qmax',
      '48',
    ],
    out,
  ];
  const child = spawn(opts.ffmpeg ?? 'ffmpeg', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr = new LineTail(10);
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  // Generous: realtime VP8 runs far above 100 frames/s even on one core.
  const timeoutMs = opts.timeoutMs ?? 60_000 + frames.length * 20;
  const timer = setTimeout(() => void stopChild(child, 1_000), timeoutMs);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c) => resolve(c));
    });
    if (code !== 0) throw new Error(`ffmpeg exited with ${code}: ${stderr.toString()}`);
  } finally {
    clearTimeout(timer);
  }
  return {
    file: out,
    durationSeconds: Math.max(MIN_FRAME_MS, endMs - first.atMs) / 1000,
    frames: frames.length,
  };
}
