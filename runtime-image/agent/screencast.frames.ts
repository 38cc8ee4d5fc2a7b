/**
 * The live view of a headless pod: the newest page's CDP screencast (JPEG frames), for as long as
 * someone watches. Like the recorder (screencast.recorder.ts) it follows the newest open page and
 * has a browser connection of its own; unlike it, it keeps only the latest frame, in memory.
 */
import type { Logger } from 'pino';
import { CdpConnection, type CdpEvent } from './cdp.client.ts';
import { FramePacer } from './frame-pacer.ts';
import { jpegSize } from './webm.encoder.ts';

export interface JpegFrame {
  jpeg: Buffer;
  width: number;
  height: number;
  /** Increases with every frame. */
  seq: number;
}

const MAX_FPS = 15;
/**
 * Frames at the page's own size: the viewer's framebuffer is the session's viewport. The caps are the
 * largest viewport a session may ask for (core/domain/session.schema.ts): Chromium never scales down.
 */
const SCREENCAST = { format: 'jpeg', quality: 75, maxWidth: 7680, maxHeight: 4320, everyNthFrame: 1 };

export class ScreencastFrames {
  latest: JpegFrame | undefined;
  private readonly pages: string[] = [];
  private current: { targetId: string; sessionId: string } | undefined;
  private switching: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<(frame: JpegFrame) => void>();
  private readonly pacer = new FramePacer<Buffer>(MAX_FPS, (jpeg) => this.publish(jpeg));
  private closed = false;

  private constructor(
    private readonly cdp: CdpConnection,
    private readonly log: Logger,
  ) {}

  /** Opens a browser connection and starts following pages. */
  static async start(browserWsUrl: string, log: Logger): Promise<ScreencastFrames> {
    const cdp = await CdpConnection.connect(browserWsUrl, 5_000);
    const frames = new ScreencastFrames(cdp, log);
    cdp.onEvent((e) => frames.onEvent(e));
    // Reports every existing target as targetCreated, then every new one.
    await cdp.send('Target.setDiscoverTargets', { discover: true });
    return frames;
  }

  get alive(): boolean {
    return !this.closed && !this.cdp.closed;
  }

  /** Calls `listener` with every new frame; returns the unsubscribe function. */
  onFrame(listener: (frame: JpegFrame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the screencast and closes the connection (the last viewer left, or the pod stops). */
  close(): void {
    this.closed = true;
    this.pacer.cancel();
    this.listeners.clear();
    this.cdp.close();
  }

  private onEvent(event: CdpEvent): void {
    if (event.method === 'Target.targetCreated') {
      const info = event.params.targetInfo as { targetId: string; type: string };
      if (info.type !== 'page') return;
      this.pages.push(info.targetId);
      this.follow();
    } else if (event.method === 'Target.targetDestroyed') {
      const i = this.pages.indexOf(event.params.targetId as string);
      if (i < 0) return;
      this.pages.splice(i, 1);
      if (this.current?.targetId === event.params.targetId) this.current = undefined;
      this.follow();
    } else if (event.method === 'Page.screencastFrame') {
      this.onScreencastFrame(event);
    }
  }

  /** Moves the screencast to the newest page, after any switch in flight. */
  private follow(): void {
    this.switching = this.switching.then(async () => {
      const target = this.pages.at(-1);
      if (this.closed || target === this.current?.targetId) return;
      const previous = this.current;
      this.current = undefined;
      if (previous)
        await this.cdp
          .send('Target.detachFromTarget', { sessionId: previous.sessionId })
          .catch(() => undefined);
      if (!target) return;
      try {
        const { sessionId } = await this.cdp.send<{ sessionId: string }>('Target.attachToTarget', {
          targetId: target,
          flatten: true,
        });
        this.current = { targetId: target, sessionId };
        await this.cdp.send('Page.startScreencast', SCREENCAST, sessionId);
      } catch (err) {
        this.log.debug({ err }, 'live view: screencast start failed'); // the page closed meanwhile
      }
    });
  }

  private onScreencastFrame(event: CdpEvent): void {
    void this.cdp
      .send('Page.screencastFrameAck', { sessionId: event.params.sessionId }, event.sessionId)
      .catch(() => undefined);
    if (!event.sessionId || event.sessionId !== this.current?.sessionId) return;
    this.pacer.push(Buffer.from(event.params.data as string, 'base64'));
  }

  /** Publishes one paced frame to the viewers. */
  private publish(jpeg: Buffer): void {
    const size = jpegSize(jpeg);
    if (!size || this.closed) return;
    this.latest = { jpeg, ...size, seq: (this.latest?.seq ?? 0) + 1 };
    for (const listener of this.listeners) listener(this.latest);
  }
}
