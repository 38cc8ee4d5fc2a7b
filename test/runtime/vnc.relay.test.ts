/** The pod agent's live view: x11vnc on a private Xvfb display, relayed as a WebSocket at /vnc. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import WebSocket from 'ws';
import { startXvfb, type XvfbHandle } from '../../runtime-image/agent/xvfb.launcher.ts';
import { stopChild, hasExited } from '../../runtime-image/agent/child.util.ts';
import { VncRelay } from '../../runtime-image/agent/vnc.relay.ts';
import { xvfbAvailable } from '../../core/runtime/local.driver.ts';

const x11vnc = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v x11vnc'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** The first RFB bytes a viewer gets through the relay (the server's ProtocolVersion). */
function firstMessage(url: string): Promise<{ ws: WebSocket; text: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('message', (data: Buffer) => resolve({ ws, text: data.toString('latin1') }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** A whole RFB 3.8 handshake (security None) through the relay; resolves with the desktop's size. */
function handshake(url: string): Promise<{ width: number; height: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let buf = Buffer.alloc(0);
    let step = 0;
    ws.on('message', (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      if (step === 0 && buf.length >= 12) {
        ws.send(Buffer.from('RFB 003.008\n', 'latin1'));
        buf = buf.subarray(12);
        step = 1;
      }
      if (step === 1 && buf.length >= 1 + buf[0]!) {
        if (!buf.subarray(1, 1 + buf[0]!).includes(1)) return reject(new Error('no None security'));
        ws.send(Buffer.from([1]));
        buf = buf.subarray(1 + buf[0]!);
        step = 2;
      }
      if (step === 2 && buf.length >= 4) {
        if (buf.readUInt32BE(0) !== 0) return reject(new Error('security failed'));
        ws.send(Buffer.from([1])); // ClientInit: shared
        buf = buf.subarray(4);
        step = 3;
      }
      if (step === 3 && buf.length >= 4) {
        resolve({ width: buf.readUInt16BE(0), height: buf.readUInt16BE(2) });
        ws.close();
      }
    });
    ws.once('error', reject);
  });
}

describe.skipIf(!xvfbAvailable() || !x11vnc)('VncRelay', () => {
  let xvfb: XvfbHandle;
  let dir: string;
  let relay: VncRelay;
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    xvfb = await startXvfb({ timeoutMs: 10_000 });
    dir = await mkdtemp(join(tmpdir(), 'ventus-vnc-'));
    relay = new VncRelay(xvfb.display, dir, pino({ level: 'silent' }));
    server = http.createServer((_req, res) => res.writeHead(404).end());
    server.on('upgrade', (req, socket, head: Buffer) => relay.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/vnc`;
  });

  afterAll(async () => {
    await relay?.close();
    server?.close();
    if (xvfb) await stopChild(xvfb.process, 500);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts x11vnc on the first viewer, on a private unix socket only, shared by later viewers', async () => {
    expect(relay.server).toBeUndefined(); // nothing runs until someone watches
    const [a, b] = await Promise.all([firstMessage(url), firstMessage(url)]);
    expect(a.text).toBe('RFB 003.008\n');
    expect(b.text).toBe('RFB 003.008\n');
    const pid = relay.server!.pid!;
    expect((await stat(join(dir, 'vnc.sock'))).isSocket()).toBe(true);
    const args = execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
    expect(args).toContain('-rfbport 0');
    // No TCP listener of its own: none of its sockets is a listening TCP socket.
    const inodes = new Set(
      (await readdir(`/proc/${pid}/fd`))
        .map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' }))
        .map((target) => /^socket:\[(\d+)\]$/.exec(target)?.[1])
        .filter(Boolean),
    );
    const tcpListeners = ['/proc/net/tcp', '/proc/net/tcp6']
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').slice(1))
      .map((line) => line.trim().split(/\s+/))
      .filter((cols) => cols[3] === '0A')
      .map((cols) => cols[9]);
    expect(inodes.size).toBeGreaterThan(0);
    expect(tcpListeners.filter((inode) => inodes.has(inode))).toEqual([]);
    a.ws.close();
    b.ws.close();
    // A viewer gets past the handshake (x11vnc accepts clients on its unix socket).
    expect(await handshake(url)).toEqual({ width: 1920, height: 1080 });
  });

  it('dies with the pod: close() stops x11vnc and refuses new viewers', async () => {
    const { ws } = await firstMessage(url);
    const closed = new Promise((resolve) => ws.once('close', resolve));
    const child = relay.server!;
    await relay.close();
    await closed;
    expect(hasExited(child)).toBe(true);
    await expect(firstMessage(url)).rejects.toThrow(/503/);
  });
});
