/**
 * What a recording shows: the frame count and the average colour of its last frame, decoded with
 * ffmpeg (each frame scaled to one pixel). The victim's page turns from red to green after the attack,
 * so a recording that was stopped by the attacker ends red.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RecordingLook {
  frames: number;
  /** [r, g, b] of the last frame. */
  last: [number, number, number] | undefined;
}

export async function lookAtRecording(webm: Buffer, file: string): Promise<RecordingLook> {
  await writeFile(file, webm);
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-vf', 'scale=1:1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  const frames = Math.floor(stdout.length / 3);
  const at = (frames - 1) * 3;
  return { frames, last: frames > 0 ? [stdout[at]!, stdout[at + 1]!, stdout[at + 2]!] : undefined };
}

/** Mostly green (the victim's page after the attack), not red (before it). */
export const isGreen = (rgb: [number, number, number] | undefined) => !!rgb && rgb[1] > 2 * rgb[0];
