/**
 * The kernel relay (runtime-image/agent/kernel-relay.c through kernel.relay.ts), compiled from its source as
 * the proxy does it, between a client socket this process accepted and a "pod" on a unix socket: the
 * upgrade request first, then bytes exactly both ways, counted; either side or the proxy ending a
 * connection ends both sides; the proxy keeps no descriptor of a handed-over socket; a relay that dies
 * cuts its connections and the next hand-over starts a new one.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { once } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelRelay, type OnBytes } from '../../runtime-image/agent/kernel.relay.ts';
import { kernelRelayProgram } from '../../core/runtime/kernel-relay.program.ts';
import { CdpRelay } from '../../runtime-image/agent/cdp.relay.ts';
import { eventually } from '../support/eventually.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ventus-kernel-relay-'));
const podPath = path.join(dir, 'pod.sock');
const REQUEST = Buffer.from('GET /devtools/browser HTTP/1.1\r\nHost: localhost\r\n\r\n');

/** The pod: answers the request line with "101\n", then echoes; remembers its sockets. */
const podSockets: net.Socket[] = [];
const pod = net.createServer((socket) => {
  podSockets.push(socket);
  let request = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    request = Buffer.concat([request, chunk]);
    const end = request.indexOf('\r\n\r\n');
    if (end < 0) return;
    socket.off('data', onData);
    socket.write(`101 ${request.subarray(0, end + 4).toString('base64')}\n`);
    const rest = request.subarray(end + 4);
    if (rest.length > 0) socket.write(rest);
    socket.pipe(socket);
  };
  socket.on('data', onData);
});

let relay: KernelRelay;
let program: string;
const front = net.createServer();
let frontPort = 0;

/** A client connected through the relay, with what it has received so far. */
async function throughRelay(early?: Buffer) {
  const accepted = once(front, 'connection') as Promise<[net.Socket]>;
  const client = net.connect(frontPort);
  await once(client, 'connect');
  const [server] = await accepted;
  if (early) {
    client.write(early);
    await once(server, 'readable');
  }
  const counted = { client_to_pod: 0, pod_to_client: 0 };
  const onBytes: OnBytes = (direction, n) => (counted[direction] += n);
  const splice = relay.relay(server, { socketPath: podPath }, REQUEST, onBytes);
  let received = Buffer.alloc(0);
  client.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  const clientClosed = once(client, 'close');
  const receivedAtLeast = async (n: number) => {
    while (received.length < n) await once(client, 'data');
    return received;
  };
  return { client, server, splice: splice!, counted, receivedAtLeast, clientClosed };
}

/** A client and the socket this process accepted for it, not handed to any relay yet. */
async function acceptedPair(): Promise<{ client: net.Socket; server: net.Socket }> {
  const accepted = once(front, 'connection') as Promise<[net.Socket]>;
  const client = net.connect(frontPort);
  const [server] = await accepted;
  return { client, server };
}

/** The socket a relay did not take is still the caller's, and still carries bytes; then both go. */
async function expectStillTheCallers(client: net.Socket, server: net.Socket): Promise<void> {
  server.write('still here');
  const [chunk] = (await once(client, 'data')) as [Buffer];
  expect(chunk.toString()).toBe('still here');
  client.destroy();
  server.destroy();
}

beforeAll(async () => {
  program = (await kernelRelayProgram(path.join(dir, 'bundles'), (why) => {
    throw new Error(why);
  }))!;
  relay = new KernelRelay(program, pino({ level: 'silent' }));
  pod.listen(podPath);
  front.listen(0, '127.0.0.1');
  await Promise.all([once(pod, 'listening'), once(front, 'listening')]);
  frontPort = (front.address() as net.AddressInfo).port;
});

afterAll(() => {
  relay.close();
  pod.close();
  front.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the kernel relay', () => {
  it('sends the upgrade request first, then moves megabytes exactly both ways and counts them', async () => {
    const c = await throughRelay(Buffer.from('early'));
    const status = `101 ${REQUEST.toString('base64')}\n`;
    // The request as given, then what the client had sent before the hand-over.
    expect((await c.receivedAtLeast(status.length + 5)).toString()).toBe(`${status}early`);
    const payload = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE((i * 2654435761) >>> 0, i);
    c.client.write(payload);
    const echoed = await c.receivedAtLeast(status.length + 5 + payload.length);
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(digest(echoed.subarray(status.length + 5))).toBe(digest(payload));
    c.client.end();
    await c.splice.closed;
    // The request is the proxy's, not the client's: only the client's bytes count one way.
    expect(c.counted).toEqual({
      client_to_pod: 5 + payload.length,
      pod_to_client: status.length + 5 + payload.length,
    });
  });

  it('keeps no descriptor of a handed-over socket: the pod closing closes the client', async () => {
    const c = await throughRelay();
    await c.receivedAtLeast(4);
    expect(c.server.destroyed).toBe(true);
    podSockets.at(-1)!.destroy();
    await c.clientClosed;
    await c.splice.closed;
  });

  it("cuts both sides when the proxy says so (a session's end)", async () => {
    const c = await throughRelay();
    await c.receivedAtLeast(4);
    const podSide = podSockets.at(-1)!;
    const podClosed = once(podSide, 'close');
    c.splice.destroy();
    await Promise.all([c.clientClosed, podClosed, c.splice.closed]);
    expect(relay.size).toBe(0);
  });

  it('closes the client when the pod cannot be reached', async () => {
    const accepted = once(front, 'connection') as Promise<[net.Socket]>;
    const client = net.connect(frontPort);
    const [server] = await accepted;
    const closed = once(client, 'close');
    const splice = relay.relay(server, { socketPath: path.join(dir, 'nobody.sock') }, REQUEST);
    await Promise.all([closed, splice!.closed]);
  });

  it('cuts its connections when it dies, and the next hand-over starts a new relay', async () => {
    const c = await throughRelay();
    await c.receivedAtLeast(4);
    relay.close();
    await Promise.all([c.clientClosed, c.splice.closed]);
    const next = await throughRelay();
    expect((await next.receivedAtLeast(4)).subarray(0, 4).toString()).toBe('101 ');
    next.client.write('again');
    expect((await next.receivedAtLeast(4 + REQUEST.toString('base64').length + 1 + 5)).toString()).toMatch(
      /again$/,
    );
    next.client.destroy();
    await next.splice.closed;
  });

  it('a program that cannot start leaves every connection to the caller, and is not tried again', async () => {
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const missing = new KernelRelay(path.join(dir, 'no-such-relay'), log).start();
    const { client, server } = await acceptedPair();
    for (let i = 0; i < 3; i++)
      expect(missing.relay(server, { socketPath: podPath }, REQUEST)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 100)); // spawn failures are reported a tick later
    // One attempt (one ENOENT), not one per connection: each would be a fork of the caller.
    expect(warnings.filter((w) => w.includes('ENOENT'))).toHaveLength(1);
    await expectStillTheCallers(client, server);
  });

  it('leaves what it cannot take to the caller, untouched: no descriptor, an address it cannot dial', async () => {
    expect(relay.relay(new net.Socket(), { socketPath: podPath }, REQUEST)).toBeUndefined();
    const { client, server } = await acceptedPair();
    // A name (the relay resolves none), a path its line protocol cannot carry.
    for (const endpoint of [{ host: 'pod.example', port: 9222 }, { socketPath: `${dir}/a b.sock` }])
      expect(relay.relay(server, endpoint, REQUEST)).toBeUndefined();
    // Still the caller's, and still working.
    await expectStillTheCallers(client, server);
  });

  it("holds none of the proxy's environment, and exits when the proxy's process goes", async () => {
    const c = await throughRelay();
    await c.receivedAtLeast(4);
    const environ = readFileSync(`/proc/${relay.pid}/environ`, 'utf8').split('\0').filter(Boolean);
    expect(environ.map((e) => e.split('=')[0]).sort()).toEqual([
      'NODE_CHANNEL_FD',
      'NODE_CHANNEL_SERIALIZATION_MODE',
    ]);
    c.client.destroy();
    await c.splice.closed;

    // A parent that dies without a word (SIGKILL): its relay notices the closed channel and exits.
    const parent = spawn(
      process.execPath,
      [
        '-e',
        `const r = require('child_process').spawn(${JSON.stringify(program)}, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: {} }); console.log(r.pid); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(parent.stdout, 'data')) as [Buffer];
    const orphan = Number(line.toString().trim());
    expect(existsSync(`/proc/${orphan}`)).toBe(true);
    parent.kill('SIGKILL');
    await eventually(
      'the relay to exit',
      async () =>
        !existsSync(`/proc/${orphan}`) || /^\S+ \(\S+\) Z/.test(readFileSync(`/proc/${orphan}/stat`, 'utf8')),
      { timeoutMs: 10_000, everyMs: 50 },
    );
  });

  it("the agent's cut (a claim, a stop) does not wait on a relay that does not answer: it is stopped, and the connection with it", async () => {
    const log = pino({ level: 'silent' });
    const kernel = new KernelRelay(program, log).start();
    const agent = new CdpRelay(
      () => ({ devtools: { socketPath: podPath }, browserPath: '/devtools/browser/the-one' }),
      log,
      kernel,
    );
    const server = http.createServer();
    server.on('upgrade', (req, socket, head) => agent.handleUpgrade(req, socket, head));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = net.connect((server.address() as net.AddressInfo).port);
    client.write(
      'GET /devtools/browser HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    const [answer] = (await once(client, 'data')) as [Buffer];
    expect(answer.toString()).toMatch(/^101 /);
    const pid = kernel.pid!;
    process.kill(pid, 'SIGSTOP'); // hung: it will not confirm
    const clientClosed = once(client, 'close');
    await agent.closeAll();
    await clientClosed;
    expect(kernel.pid).toBeUndefined();
    server.close();
  });
});
