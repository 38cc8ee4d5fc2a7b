import { once } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readBody } from '../../runtime-image/agent/http-json.ts';

/** A server whose every request's readBody outcome is handed to the test. */
async function bodyServer() {
  const outcomes: Promise<string>[] = [];
  const server = http.createServer((req: IncomingMessage, res) => {
    const body = readBody(req);
    outcomes.push(body);
    body.then(
      (text) => res.end(String(text.length)),
      () => res.destroy(),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, port, outcomes };
}

let close: (() => void) | undefined;
afterEach(() => close?.());

describe("the agent's readBody", () => {
  it('returns the body as sent, in several chunks', async () => {
    const { server, port, outcomes } = await bodyServer();
    close = () => server.close();
    const text = 'é'.repeat(200_000);
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: text });
    expect(await res.text()).toBe(String(text.length));
    expect(await outcomes[0]).toBe(text);
  });

  it('refuses a body over 16 MiB and cuts the request', async () => {
    const { server, port, outcomes } = await bodyServer();
    close = () => server.close();
    const sent = fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      body: Buffer.alloc(16 * 1024 * 1024 + 1, 'a'),
    });
    await expect(sent).rejects.toThrow();
    await expect(outcomes[0]).rejects.toThrow('body too large');
  });

  it('gives up on a client that goes away mid-body, instead of waiting forever', async () => {
    const { server, port, outcomes } = await bodyServer();
    close = () => server.close();
    const req = http.request({
      port,
      host: '127.0.0.1',
      method: 'POST',
      headers: { 'content-length': 1000 },
    });
    req.on('error', () => undefined);
    req.write('only part of it');
    await new Promise((resolve) => setTimeout(resolve, 50));
    req.destroy();
    const outcome = await Promise.race([
      outcomes[0]!.then(
        () => 'resolved',
        () => 'rejected',
      ),
      new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5_000)),
    ]);
    expect(outcome).toBe('rejected');
  });
});
