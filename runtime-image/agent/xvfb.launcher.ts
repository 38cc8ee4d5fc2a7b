/** Starts the private X display of a headful pod. */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { LineTail, hasExited, stopChild } from './child.util.ts';

/**
 * The display's size: the largest live view at full size (a session's viewport shows at its own size
 * when it fits: vnc.relay.ts clips the desktop to it). Fixed at start: a warm pod's Xvfb runs before
 * any viewport is known, and Xvfb's RANDR cannot grow the screen past its start size.
 */
export const SCREEN = { width: 1920, height: 1080 } as const;

export interface XvfbHandle {
  process: ChildProcess;
  /** Value for DISPLAY, e.g. ":99". */
  display: string;
}

/**
 * Starts Xvfb with `-displayfd`, so Xvfb itself picks a free display number and writes it to the
 * given fd once it accepts connections: no racing on lock files, and no "is it up yet" polling.
 */
export async function startXvfb(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<XvfbHandle> {
  const child = spawn(
    'Xvfb',
    ['-displayfd', '3', '-screen', '0', `${SCREEN.width}x${SCREEN.height}x24`, '-nolisten', 'tcp'],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    },
  );
  const stderr = new LineTail();
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  const displayFd = child.stdio[3] as Readable;

  try {
    const display = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      const fail = (why: string): void => reject(new Error(`Xvfb ${why}\n${stderr.toString()}`));
      const timer = setTimeout(() => fail(`gave no display within ${opts.timeoutMs} ms`), opts.timeoutMs);
      const onAbort = (): void => fail('start aborted');
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      displayFd.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const match = /^(\d+)\n/.exec(buffered);
        if (match) {
          settle();
          resolve(`:${match[1]}`);
        }
      });
      child.once('error', (err) => {
        settle();
        fail(`failed to start: ${err.message}`);
      });
      child.once('exit', (code, sig) => {
        settle();
        fail(`exited early (code ${code}, signal ${sig})`);
      });
    });
    displayFd.destroy();
    return { process: child, display };
  } catch (err) {
    if (!hasExited(child)) await stopChild(child, 500);
    throw err;
  }
}
