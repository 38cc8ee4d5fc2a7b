/**
 * The pod's recording, if its session asked for one: started by POST /session with
 * `recording: {enabled: true}`, stopped and encoded by `POST /recording/stop` (the control plane calls
 * it at teardown, before deleting the pod), downloaded with `GET /recording`. Frames and the WebM live
 * in the pod's scratch dir, which goes with the pod.
 */
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { CdpConnection } from './cdp.client.ts';
import { ScreencastRecorder } from './screencast.recorder.ts';
import { sendJson } from './http-json.ts';

/** What `POST /recording/stop` answers (200); 204 when nothing was painted, 404 when not recording. */
export interface RecordingSummary {
  bytes: number;
  durationSeconds: number;
  frames: number;
}

export class PodRecording {
  private recorder: Promise<ScreencastRecorder> | undefined;
  private result: Promise<(RecordingSummary & { file: string }) | undefined> | undefined;

  constructor(
    private readonly browserUrl: string,
    private readonly scratchDir: string,
    private readonly log: Logger,
    private readonly ffmpeg?: string,
  ) {}

  /** Starts recording (idempotent: a retried POST /session keeps the recording it started). */
  async start(): Promise<void> {
    this.recorder ??= (async () => {
      await mkdir(this.scratchDir, { recursive: true });
      const cdp = await CdpConnection.connect(this.browserUrl, 5_000);
      try {
        return await ScreencastRecorder.start(cdp, this.scratchDir, this.log, this.ffmpeg);
      } catch (err) {
        cdp.close();
        throw err;
      }
    })();
    try {
      await this.recorder;
      this.log.info('recording started');
    } catch (err) {
      this.recorder = undefined; // let a retry start afresh
      throw err;
    }
  }

  /** Runs the agent's own tab work so that its pages never show up in the recording. */
  async hidePagesDuring<T>(fn: () => Promise<T>): Promise<T> {
    const recorder = await this.recorder?.catch(() => undefined);
    return recorder ? recorder.hidePagesDuring(fn) : fn();
  }

  /** Stops and encodes; null when the session is not recorded, undefined when nothing was painted. */
  async stop(): Promise<RecordingSummary | undefined | null> {
    if (!this.recorder) return null;
    this.result ??= (async () => {
      const encoded = await (await this.recorder!).stop();
      if (!encoded) return undefined;
      const { size } = await stat(encoded.file);
      return {
        file: encoded.file,
        bytes: size,
        durationSeconds: encoded.durationSeconds,
        frames: encoded.frames,
      };
    })();
    const r = await this.result;
    return r && { bytes: r.bytes, durationSeconds: r.durationSeconds, frames: r.frames };
  }

  /** The encoded WebM, once stop() produced one. */
  async file(): Promise<string | undefined> {
    return (await this.result?.catch(() => undefined))?.file;
  }

  /** Agent shutdown: nothing is encoded (the scratch dir goes with the pod); the connection closes. */
  async dispose(): Promise<void> {
    const recorder = await this.recorder?.catch(() => undefined);
    if (recorder?.recording) void recorder.stop().catch(() => undefined);
  }
}

/** `POST /recording/stop` and `GET /recording`; false when the request is for another route. */
export async function handleRecordingRequest(
  recording: PodRecording,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<boolean> {
  if (req.method === 'POST' && path === '/recording/stop') {
    const summary = await recording.stop();
    if (summary === null) sendJson(res, 404, { error: 'this session is not recorded' });
    else if (summary === undefined) sendJson(res, 204);
    else sendJson(res, 200, summary);
    return true;
  }
  if (req.method === 'GET' && path === '/recording') {
    const file = await recording.file();
    if (!file) {
      sendJson(res, 404, { error: 'no recording (POST /recording/stop first)' });
      return true;
    }
    const { size } = await stat(file);
    res.writeHead(200, { 'content-type': 'video/webm', 'content-length': size });
    await pipeline(createReadStream(file), res);
    return true;
  }
  return false;
}
