/**
 * Bounded sockets: a viewer's 10 MiB live-view frame closes its socket (1009) without being buffered
 * and the proxy's memory stays flat; viewers and CDP sockets past the workspace's caps are refused
 * (429); revoking a session's links closes its viewers and stops the old links from opening new ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { TestContext } from '../support/test-context.ts';
import { ApiClient, type SessionBody } from '../support/api-client.ts';
import type { Stack } from '../../stack/stack.ts';

const VIEWERS = 4;
const CDP_SOCKETS = 3;

/** Opens a WebSocket; resolves with it once open, or with the HTTP status it was refused with. */
function open(url: string): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(0));
  });
}
const closed = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

/**
 * Upgrades a raw TCP socket to `url`, sends one binary frame announcing `payload` (masked, as a client
 * must) and streams the payload; resolves with the close code the server answers.
 */
function sendRawFrame(url: string, payload: Buffer): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    let upgraded = false;
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!upgraded) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!received.subarray(0, 12).toString().includes('101'))
          return reject(new Error(received.toString()));
        upgraded = true;
        received = received.subarray(end + 4);
        const header = Buffer.alloc(14);
        header[0] = 0x82; // FIN, binary
        header[1] = 0x80 | 127; // masked, 64-bit length
        header.writeBigUInt64BE(BigInt(payload.length), 2);
        socket.write(header); // mask key: the last 4 bytes (zeros)
        socket.write(payload, () => {});
      }
      // The server's frames: the RFB greeting, then the close frame (opcode 8) with its code.
      for (let at = 0; at + 2 <= received.length;) {
        const opcode = received[at]! & 0x0f;
        const len = received[at + 1]! & 0x7f;
        const start = at + 2 + (len === 126 ? 2 : len === 127 ? 8 : 0);
        const size = len === 126 ? received.readUInt16BE(at + 2) : len;
        if (start + size > received.length) break;
        if (opcode === 8) {
          socket.destroy();
          return resolve(received.readUInt16BE(start));
        }
        at = start + size;
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(0));
    socket.write(
      `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

describe('bounded sockets', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;
  let session: SessionBody;
  const viewerUrl = async () => {
    const link = await api.request<{ live_view_url: string }>('POST', `/v1/sessions/${session.id}/live-view`);
    expect(link.status).toBe(200);
    const u = new URL(link.body.live_view_url);
    return `${stack.url.replace('http', 'ws')}/v/${session.id}/websockify?token=${u.searchParams.get('token')}`;
  };

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 0, maxTotal: 2, env: { VENTUS_HEADLESS: 'true' } });
    stack = await ctx.startStack();
    const { apiKey, workspaceId } = await ctx.seedKey();
    const operator = new ApiClient(stack.url, (await ctx.seedKey(['operator'])).apiKey);
    await operator.request('PATCH', `/v1/workspaces/${workspaceId}/limits`, {
      body: { viewers_per_session: VIEWERS, cdp_sockets_per_session: CDP_SOCKETS },
    });
    api = new ApiClient(stack.url, apiKey);
    const created = await api.createSession({ keep_alive_seconds: 600 });
    session = await api.waitFor(created.body.id, ['RUNNING'], 60_000);
  });
  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
  });

  it('10 MiB live-view frames close their sockets (1009) unbuffered: memory stays flat', async () => {
    // One payload shared by every socket, written raw (no per-socket masked copy as a ws client makes):
    // what grows is what the proxy (in this test's process) keeps.
    const payload = Buffer.alloc(10 * 1024 * 1024, 1);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    for (let round = 0; round < 5; round++) {
      const urls = await Promise.all(Array.from({ length: VIEWERS }, () => viewerUrl()));
      const codes = await Promise.all(urls.map((url) => sendRawFrame(url, payload)));
      expect(codes).toEqual(urls.map(() => 1009));
    }
    clearInterval(sample);
    // A proxy that buffered the frames would hold VIEWERS x 10 MiB at once, every round.
    expect((peak - before) / 1024 / 1024).toBeLessThan(VIEWERS * 10);
  });

  it(`viewers past the cap of ${VIEWERS} are refused with 429; revoking closes them and the old link`, async () => {
    const url = await viewerUrl();
    const attempts = await Promise.all(Array.from({ length: 6 }, () => open(url)));
    const opened = attempts.filter((a): a is WebSocket => typeof a !== 'number');
    expect(opened).toHaveLength(VIEWERS);
    expect(attempts.filter((a) => a === 429)).toHaveLength(6 - VIEWERS);
    const codes = opened.map(closed);
    expect((await api.request('POST', `/v1/sessions/${session.id}:keepalive`, { body: {} })).status).toBe(
      200,
    );
    const revoked = await api.request('POST', `/v1/sessions/${session.id}/live-view:revoke`);
    expect(revoked.status).toBe(204);
    expect(await Promise.all(codes)).toEqual(opened.map(() => 4001));
    expect(await open(url)).toBe(401);
    // A link made after the revocation (next second: links carry whole seconds) works.
    await new Promise((r) => setTimeout(r, 1100));
    const fresh = await open(await viewerUrl());
    expect(typeof fresh).not.toBe('number');
    (fresh as WebSocket).close();
  });

  it(`CDP sockets past the cap of ${CDP_SOCKETS} are refused with 429`, async () => {
    const attempts = await Promise.all(Array.from({ length: 8 }, () => open(session.connect_url)));
    const opened = attempts.filter((a): a is WebSocket => typeof a !== 'number');
    expect(opened.length).toBeLessThanOrEqual(CDP_SOCKETS);
    expect(opened.length).toBeGreaterThan(0);
    expect(attempts.filter((a) => a === 429)).toHaveLength(8 - opened.length);
    for (const ws of opened) ws.close();
    await Promise.all(opened.map(closed));
    // Room again once they are closed.
    const again = await open(session.connect_url);
    expect(typeof again).not.toBe('number');
    (again as WebSocket).close();
  });
});
