import { testLocalDriver } from '../support/local-driver.ts';
import { listenOnPagePort } from '../support/page-ports.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import type { Stack } from '../../stack/stack.ts';

const run = promisify(execFile);

/** A page that repaints continuously, so the screencast has frames to send. */
const ANIMATED = `<!doctype html><title>moving</title>
<div id="box" style="position:absolute;top:40px;width:60px;height:60px;background:#c00"></div>
<script>let x = 0; setInterval(() => { x = (x + 7) % 600; box.style.left = x + 'px'; }, 30);</script>`;

interface RecordingLink {
  recording_url: string;
  expires_at: string;
  size_bytes: number;
  duration_seconds: number;
  content_type: string;
  delete_after: string;
}

describe('session recording (real Chromium + ffmpeg)', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;
  let site: http.Server;
  let siteUrl: string;
  let tmp: string;

  beforeAll(async () => {
    ctx = await TestContext.create({
      minReady: 1,
      maxTotal: 3,
      // Short enough for a test to watch a URL expire and the sweeper run.
      env: { VENTUS_RECORDING_SWEEP_MS: '300', VENTUS_RECORDING_URL_TTL_SECONDS: '4' },
    });
    stack = await ctx.startStack();
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
    site = http.createServer((_req, res) => res.setHeader('content-type', 'text/html').end(ANIMATED));
    await listenOnPagePort(site);
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
    tmp = await mkdtemp(path.join(os.tmpdir(), 'ventus-recording-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => site?.close(resolve));
    await stack?.close();
    await ctx?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const recording = (id: string) => api.request<RecordingLink>('GET', `/v1/sessions/${id}/recording`);

  it('records a session to a playable WebM, serves it by signed URL, and sweeps it after retention', async () => {
    const created = await api.createSession({ keep_alive_seconds: 60, recording: { enabled: true } });
    const running = await api.waitFor(created.body.id, ['RUNNING']);
    expect(running.recording).toEqual({ enabled: true });
    expect((await recording(running.id)).status).toBe(409); // live: nothing to hand out yet
    const { rows } = await ctx.db.query<{ pod_id: string }>('SELECT pod_id FROM sessions WHERE id = $1', [
      running.id,
    ]);
    // The pod's own directory (its /pod; as root it lives outside the data directory).
    const podDir = testLocalDriver(path.join(ctx.dataDir, 'pods')).rootOf(rows[0]!.pod_id);

    const browser = await chromium.connectOverCDP(running.connect_url);
    const page = await browser.contexts()[0]!.newPage();
    await page.goto(siteUrl);
    await page.waitForTimeout(3_000);
    await expect.poll(() => existsSync(path.join(podDir, 'scratch')), { timeout: 5_000 }).toBe(true);
    await browser.close();
    expect((await api.release(running.id)).body.status).toBe('COMPLETED');

    // Teardown encodes on the pod, copies the WebM out, then deletes the pod with its scratch frames.
    await expect.poll(async () => (await recording(running.id)).status, { timeout: 60_000 }).toBe(200);
    await expect.poll(() => existsSync(podDir), { timeout: 15_000 }).toBe(false);
    const link = (await recording(running.id)).body;
    expect(link).toMatchObject({ content_type: 'video/webm' });
    expect(link.size_bytes).toBeGreaterThan(0);
    expect(link.duration_seconds).toBeGreaterThan(1.5);
    expect(Date.parse(link.expires_at) - Date.now()).toBeLessThanOrEqual(4_000);
    expect(Date.parse(link.delete_after) - Date.now()).toBeGreaterThan(29 * 86_400_000); // default 30 days

    const download = await fetch(link.recording_url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('video/webm');
    const file = path.join(tmp, 'session.webm');
    await writeFile(file, Buffer.from(await download.arrayBuffer()));
    const probe = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'format=duration',
      '-of',
      'csv=p=0',
      file,
    ]);
    expect(Number(probe.stdout.trim())).toBeGreaterThan(1);

    // A player seeks with byte ranges: one range is 206 with exactly those bytes; past the end is 416.
    const whole = await readFile(file);
    expect(download.headers.get('accept-ranges')).toBe('bytes');
    const part = await fetch(link.recording_url, { headers: { range: 'bytes=100-1123' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-1123/${link.size_bytes}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(100, 1124))).toBe(true);
    const tail = await fetch(link.recording_url, { headers: { range: 'bytes=-10' } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(whole.length - 10))).toBe(true);
    const past = await fetch(link.recording_url, { headers: { range: `bytes=${link.size_bytes}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${link.size_bytes}`);
    expect(((await past.json()) as { type: string }).type).toMatch(/\/errors\/range-not-satisfiable$/);
    // A malformed range is ignored: the whole file.
    expect((await fetch(link.recording_url, { headers: { range: 'bytes=abc' } })).status).toBe(200);

    // A changed signature character (not the last one: its low bits are padding) and another path.
    const at = link.recording_url.length - 10;
    const flipped = link.recording_url[at] === 'A' ? 'B' : 'A';
    const tampered = link.recording_url.slice(0, at) + flipped + link.recording_url.slice(at + 1);
    expect((await fetch(tampered)).status).toBe(401);
    const otherId = running.id.slice(0, -1) + (running.id.endsWith('0') ? '1' : '0');
    expect((await fetch(link.recording_url.replace(running.id, otherId))).status).toBe(401);
    await new Promise((r) => setTimeout(r, Date.parse(link.expires_at) - Date.now() + 1_100));
    expect((await fetch(link.recording_url)).status).toBe(401); // expired

    // Retention: the clock is the one allowed double; move delete_after into the past.
    const stored = path.join(ctx.dataDir, 'artifacts', 'recordings');
    const { rows: recs } = await ctx.db.query<{ storage_key: string }>(
      'SELECT storage_key FROM recordings WHERE session_id = $1',
      [running.id],
    );
    const artifact = path.join(ctx.dataDir, 'artifacts', recs[0]!.storage_key);
    expect(existsSync(artifact)).toBe(true);
    await ctx.db.query(
      "UPDATE recordings SET delete_after = now() - interval '1 second' WHERE session_id = $1",
      [running.id],
    );
    await expect.poll(() => existsSync(artifact), { timeout: 15_000 }).toBe(false);
    expect(existsSync(stored)).toBe(true);
    const deletions = () =>
      ctx.db.query<{ class: string; actor: string; detail: Record<string, unknown> }>(
        "SELECT class, actor, detail FROM audit_log WHERE action = 'recording.deleted' AND target_id = $1",
        [running.id],
      );
    // The file goes first, then the row and its audit entry are written.
    await expect.poll(async () => (await deletions()).rows.length, { timeout: 15_000 }).toBe(1);
    const audit = await deletions();
    expect(audit.rows[0]).toMatchObject({
      class: 'system',
      actor: 'workers',
      detail: { reason: 'retention' },
    });
    const after = await api.request<{ detail: string }>('GET', `/v1/sessions/${running.id}/recording`);
    expect(after.status).toBe(404);
    expect(after.body.detail).toMatch(/deleted/);
  });

  it('a session without recording has no artifact (404), and its teardown stores nothing', async () => {
    const s = await api.waitFor((await api.createSession({ keep_alive_seconds: 60 })).body.id, ['RUNNING']);
    expect((await recording(s.id)).status).toBe(404);
    await api.release(s.id);
    const res = await recording(s.id);
    expect(res.status).toBe(404);
    expect(String((res.body as unknown as { detail: string }).detail)).toMatch(/not recorded/);
    const { rows } = await ctx.db.query('SELECT 1 FROM recordings WHERE session_id = $1', [s.id]);
    expect(rows).toHaveLength(0);
  });
});
