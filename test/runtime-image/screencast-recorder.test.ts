/**
 * The recorder ends on what the page shows when it stops. A page repainted just before the stop has
 * not sent that paint through the screencast yet (and Chromium may never send it: it drops frames
 * while acks are outstanding), so the recording took its last state from a screenshot. Real
 * Chromium (the headless shell the image runs) and real ffmpeg.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CdpConnection } from '../../runtime-image/agent/cdp.client.ts';
import { launchChromium, type ChromiumHandle } from '../../runtime-image/agent/chromium.launcher.ts';
import { resolveChromium } from '../../runtime-image/agent/chromium.resolver.ts';
import { devtoolsWsUrl } from '../../runtime-image/agent/devtools.address.ts';
import { ScreencastRecorder } from '../../runtime-image/agent/screencast.recorder.ts';
import { isGreen, lookAtRecording } from '../security/pod-boundary/recording-check.ts';

const page = (colour: string) =>
  `data:text/html,<style>html,body{margin:0;height:100%;background:${colour}}</style>`;

describe('screencast recorder: the last state', () => {
  let dir: string;
  let chromium: ChromiumHandle;
  let browserUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ventus-recorder-'));
    chromium = await launchChromium({
      executable: resolveChromium({ headless: true }),
      headless: true,
      userDataDir: path.join(dir, 'user-data'),
      timeoutMs: 30_000,
      sandbox: false,
    });
    browserUrl = devtoolsWsUrl(chromium.devtools, chromium.browserPath);
  });
  afterAll(async () => {
    if (chromium?.process.pid) {
      try {
        process.kill(-chromium.process.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a repaint right before stop() is the recording’s last frame', async () => {
    const client = await CdpConnection.connect(browserUrl, 5_000);
    const recorder = await ScreencastRecorder.start(
      await CdpConnection.connect(browserUrl, 5_000),
      dir,
      pino({ level: 'silent' }),
      'ffmpeg',
    );
    try {
      const { targetId } = await client.send<{ targetId: string }>('Target.createTarget', {
        url: page('%23e00000'),
      });
      const { sessionId } = await client.send<{ sessionId: string }>('Target.attachToTarget', {
        targetId,
        flatten: true,
      });
      await sleep(1_500); // red frames recorded
      await client.send(
        'Runtime.evaluate',
        {
          expression: `document.body.style.background = '#00c000';
            new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))`,
          awaitPromise: true,
        },
        sessionId,
      );
      const result = await recorder.stop();
      expect(result).toBeDefined();
      const look = await lookAtRecording(await readFile(result!.file), path.join(dir, 'copy.webm'));
      expect(look.frames).toBeGreaterThan(1);
      expect(isGreen(look.last), `last frame rgb(${look.last?.join(',')})`).toBe(true);
    } finally {
      client.close();
    }
  });
});
