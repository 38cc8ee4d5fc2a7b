/**
 * Records what the session's user sees: CDP `Page.startScreencast` on one page at a time, frames
 * written as JPEGs into the pod's scratch dir, encoded to WebM when the recording stops.
 *
 * Which page: the newest one still open (a client's `newPage()` or a popup becomes the active tab), and
 * the previous one again when it closes. Pages the agent opens for itself (the storage helper tab) are
 * never followed (`hidePagesDuring`). The recorder has a browser connection of its own: screencasts
 * belong to the CDP session that started them, and clients keep theirs alongside.
 *
 * Frames are acknowledged at once and kept at most MAX_FPS a second (frame-pacer.ts): a busy page is
 * sampled, not queued, and its last state is never lost.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CdpConnection, CdpEvent } from './cdp.client.ts';
import { FramePacer } from './frame-pacer.ts';
import { encodeWebm, jpegSize, type EncodeResult, type Frame } from './webm.encoder.ts';

const MAX_FPS = 10;
/** Scratch is bounded: past this many bytes of JPEG, later frames are dropped (and logged once). */
const MAX_SCRATCH_BYTES = 2 * 1024 ** 3;
const COMMAND_TIMEOUT_MS = 5_000;
/** A page whose screencast could not start is tried again this often, this many times in a row. */
const SWITCH_RETRY_MS = 250;
const MAX_SWITCH_RETRIES = 8;
const SCREENCAST = { format: 'jpeg', quality: 70, maxWidth: 1920, maxHeight: 1080, everyNthFrame: 1 };

interface TargetInfo {
  targetId: string;
  type: string;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), COMMAND_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class ScreencastRecorder {
  /** Page targets in the order they opened; the last is the one recorded. */
  private readonly pages: string[] = [];
  private readonly hidden = new Set<string>();
  private hiding = 0;
  private current: { targetId: string; sessionId: string } | undefined;
  /** Switches run one at a time, in order. */
  private switching: Promise<void> = Promise.resolve();
  private readonly frames: Frame[] = [];
  private readonly writes = new Set<Promise<void>>();
  private readonly failed = new Set<string>();
  private bytes = 0;
  private retries = 0;
  private readonly pacer = new FramePacer<Buffer>(MAX_FPS, (data, atMs) => this.keepFrame(data, atMs));
  private stopped: Promise<EncodeResult | undefined> | undefined;
  private unsubscribe: () => void = () => undefined;

  private constructor(
    private readonly cdp: CdpConnection,
    private readonly dir: string,
    private readonly log: Logger,
    private readonly ffmpeg: string | undefined,
  ) {}

  /** Starts following pages on `cdp` (the recorder's own connection; closed by stop()). */
  static async start(
    cdp: CdpConnection,
    dir: string,
    log: Logger,
    ffmpeg?: string,
  ): Promise<ScreencastRecorder> {
    const recorder = new ScreencastRecorder(cdp, dir, log, ffmpeg);
    recorder.unsubscribe = cdp.onEvent((e) => recorder.onEvent(e));
    // Reports every existing target as targetCreated, then every new one.
    await withTimeout(cdp.send('Target.setDiscoverTargets', { discover: true }), 'Target.setDiscoverTargets');
    return recorder;
  }

  get recording(): boolean {
    return this.stopped === undefined;
  }

  /** Runs `fn` (the agent's own tab work); pages opened meanwhile are never recorded. */
  async hidePagesDuring<T>(fn: () => Promise<T>): Promise<T> {
    this.hiding++;
    try {
      return await fn();
    } finally {
      this.hiding--;
    }
  }

  /**
   * Stops the screencast and encodes what was recorded. Resolves with the WebM, or undefined when no
   * frame was ever painted. Idempotent: later calls get the first call's result.
   */
  stop(): Promise<EncodeResult | undefined> {
    this.stopped ??= (async () => {
      const endMs = performance.now();
      this.unsubscribe();
      await this.switching.catch(() => undefined);
      const current = this.current;
      if (current) await this.keepLastState(current.sessionId);
      this.current = undefined;
      if (current) {
        await withTimeout(
          this.cdp.send('Page.stopScreencast', {}, current.sessionId),
          'stopScreencast',
        ).catch(() => undefined);
      }
      this.cdp.close();
      this.pacer.flush(); // the page's last state, held back by the pace
      await Promise.all(this.writes);
      const frames = this.frames.filter((f) => !this.failed.has(f.file));
      if (frames.length === 0) return undefined;
      const result = await encodeWebm(this.dir, frames, endMs, { ffmpeg: this.ffmpeg });
      this.log.info({ frames: result.frames, seconds: result.durationSeconds }, 'recording encoded');
      return result;
    })();
    return this.stopped;
  }

  /**
   * Ends the recording on what the page shows now: a screenshot, kept as the last frame. A static
   * page's final paint can be missing from the screencast (Chromium drops frames while acks are in
   * flight and never repeats them), and a recording that stops on a stale frame misleads its viewer.
   */
  private async keepLastState(sessionId: string): Promise<void> {
    try {
      const { data } = await withTimeout(
        this.cdp.send<{ data: string }>('Page.captureScreenshot', { format: 'jpeg', quality: 70 }, sessionId),
        'captureScreenshot',
      );
      this.pacer.push(Buffer.from(data, 'base64'));
      this.pacer.flush();
    } catch (err) {
      this.log.debug({ err }, 'last-state screenshot failed'); // the page or the browser is gone
    }
  }

  private onEvent(event: CdpEvent): void {
    switch (event.method) {
      case 'Target.targetCreated': {
        const info = event.params.targetInfo as TargetInfo;
        if (info.type !== 'page') return;
        if (this.hiding > 0) {
          this.hidden.add(info.targetId);
          return;
        }
        this.pages.push(info.targetId);
        this.follow();
        return;
      }
      case 'Target.targetDestroyed': {
        const targetId = event.params.targetId as string;
        this.hidden.delete(targetId);
        const i = this.pages.indexOf(targetId);
        if (i < 0) return;
        this.pages.splice(i, 1);
        if (this.current?.targetId === targetId) this.current = undefined;
        this.follow();
        return;
      }
      case 'Page.screencastFrame':
        this.onFrame(event);
        return;
    }
  }

  /** Moves the screencast to the newest page, after any switch in flight. */
  private follow(): void {
    this.switching = this.switching.then(async () => {
      const target = this.pages.at(-1);
      if (this.stopped || target === this.current?.targetId) return;
      const previous = this.current;
      this.current = undefined;
      if (previous) {
        // Detaching ends its screencast too; a page that closed meanwhile makes this fail harmlessly.
        await withTimeout(
          this.cdp.send('Target.detachFromTarget', { sessionId: previous.sessionId }),
          'detach',
        ).catch(() => undefined);
      }
      if (!target) return;
      try {
        const { sessionId } = await withTimeout(
          this.cdp.send<{ sessionId: string }>('Target.attachToTarget', { targetId: target, flatten: true }),
          'attachToTarget',
        );
        this.current = { targetId: target, sessionId };
        await withTimeout(this.cdp.send('Page.startScreencast', SCREENCAST, sessionId), 'startScreencast');
      } catch (err) {
        // The page may have closed before we attached (the next target event moves on), or the
        // browser was too slow to answer: then the same page is tried again shortly.
        this.log.debug({ err }, 'screencast start failed');
        const attached = this.current;
        this.current = undefined;
        if (attached)
          void this.cdp
            .send('Target.detachFromTarget', { sessionId: attached.sessionId })
            .catch(() => undefined);
        if (this.pages.at(-1) === target && this.retries++ < MAX_SWITCH_RETRIES) {
          setTimeout(() => this.follow(), SWITCH_RETRY_MS).unref();
        }
        return;
      }
      this.retries = 0;
    });
  }

  private onFrame(event: CdpEvent): void {
    const sessionId = event.sessionId;
    void this.cdp
      .send('Page.screencastFrameAck', { sessionId: event.params.sessionId }, sessionId)
      .catch(() => undefined);
    if (!sessionId || sessionId !== this.current?.sessionId || this.stopped) return;
    this.pacer.push(Buffer.from(event.params.data as string, 'base64'));
  }

  /** Writes one paced frame into scratch (while the scratch bound allows). */
  private keepFrame(data: Buffer, atMs: number): void {
    const size = jpegSize(data);
    if (size && this.bytes + data.length <= MAX_SCRATCH_BYTES) {
      this.bytes += data.length;
      const file = join(this.dir, `frame-${String(this.frames.length).padStart(7, '0')}.jpg`);
      this.frames.push({ file, atMs, ...size });
      const write = writeFile(file, data).catch((err: Error) => {
        this.failed.add(file);
        this.log.warn({ err }, 'frame write failed');
      });
      this.writes.add(write);
      void write.finally(() => this.writes.delete(write));
    } else if (size && this.bytes <= MAX_SCRATCH_BYTES) {
      this.bytes = MAX_SCRATCH_BYTES + 1;
      this.log.warn('recording scratch limit reached; later frames are dropped');
    }
  }
}
