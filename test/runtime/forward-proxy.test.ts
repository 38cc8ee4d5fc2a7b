/**
 * The pod's forwarding proxy on real sockets, without a browser: direct mode, the claim-time check
 * of an upstream (accepted, 407, unreachable), and credentials added on the way up. The sim's
 * POST /session accepts `proxy` through the same parser.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSessionConfig } from '../../runtime-image/agent/agent.server.ts';
import { ForwardProxy, PROBE_TARGET } from '../../runtime-image/agent/forward-proxy.ts';
import { WARMUP_HOST, WARMUP_URL } from '../../runtime-image/agent/network.warmup.ts';
import { startAuthProxy, type AuthProxy } from '../support/auth-proxy.ts';
import { serveLocalSite, type LocalSite } from '../support/local-page.ts';
import { podId } from './driver.conformance.ts';
import { simHarness } from './sim.harness.ts';

const PASSWORD = 'pw-unit-7f3a';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

/** GET `url` through the proxy on `port` (absolute-URI form, as Chromium sends it). */
function getVia(port: number, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: url, headers: { host: new URL(url).host } },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject).end();
  });
}

/** CONNECT `target` through the proxy on `port`; resolves with the status line's code. */
function connectVia(port: number, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'CONNECT', path: target, agent: false });
    req.once('connect', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject).end();
  });
}

describe('ForwardProxy', () => {
  let site: LocalSite;
  let upstream: AuthProxy;
  const logLines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });

  /** The test's own site is allow-listed (it is on 127.0.0.1); upstreams on loopback are allowed. */
  const policy = () => ({ allow: [new URL(site.url).host], allowPrivate: true });

  beforeAll(async () => {
    site = await serveLocalSite();
    upstream = await startAuthProxy('alice', PASSWORD);
  });
  afterAll(async () => {
    await site?.close();
    await upstream?.close();
  });

  it('direct mode forwards plain requests and CONNECT tunnels itself', async () => {
    const proxy = new ForwardProxy(log, policy());
    const port = await proxy.listen();
    try {
      expect(proxy.status()).toEqual({ mode: 'direct', lastError: null });
      const res = await getVia(port, `${site.url}/direct`);
      expect(res.status).toBe(200);
      expect(res.body).toContain('Ventus test page');
      expect(await connectVia(port, new URL(site.url).host)).toBe(200);
      expect(upstream.seen).toHaveLength(0);
    } finally {
      proxy.close();
    }
  });

  it("answers the agent's warm-up itself: no name lookup, no upstream, and nothing a page can tell", async () => {
    const lookups: string[] = [];
    const proxy = new ForwardProxy(log, policy(), async (host) => {
      lookups.push(host);
      throw new Error('no lookup expected');
    });
    const port = await proxy.listen();
    try {
      expect(await getVia(port, WARMUP_URL)).toEqual({ status: 204, body: '' });
      expect(lookups).toEqual([]);
      // Only that exact URL, whose path is the agent's secret: a page that tries the host (to tell a
      // pod) makes an ordinary request, looked up and refused like any name that does not resolve.
      expect((await getVia(port, `http://${WARMUP_HOST}/`)).status).toBe(403);
      expect((await getVia(port, `${WARMUP_URL}x`)).status).toBe(403);
      expect(lookups).toEqual([WARMUP_HOST, WARMUP_HOST]);
      await proxy.useUpstream({ url: upstream.url, username: 'alice', password: PASSWORD });
      const seen = upstream.seen.length;
      expect(await getVia(port, WARMUP_URL)).toEqual({ status: 204, body: '' });
      expect(upstream.seen).toHaveLength(seen);
    } finally {
      proxy.close();
    }
  });

  it('an accepted upstream gets every request with the credentials', async () => {
    const proxy = new ForwardProxy(log, policy());
    const port = await proxy.listen();
    try {
      // A tunnel opened while direct must not outlive the switch (it would bypass the upstream).
      const early = await new Promise<net.Socket>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port,
          method: 'CONNECT',
          path: new URL(site.url).host,
        });
        req.once('connect', (_res, socket) => resolve(socket));
        req.on('error', reject).end();
      });
      early.on('error', () => undefined); // a reset is as good as a close here
      const earlyClosed = new Promise<void>((resolve) => early.once('close', () => resolve()));
      await proxy.useUpstream({ url: upstream.url, username: 'alice', password: PASSWORD });
      await earlyClosed;
      expect(upstream.seen.at(-1)).toMatchObject({ method: 'CONNECT', target: PROBE_TARGET, accepted: true });
      expect(proxy.status()).toEqual({ mode: 'upstream', lastError: null });

      expect((await getVia(port, `${site.url}/up`)).status).toBe(200);
      expect(upstream.seen.at(-1)).toEqual({
        method: 'GET',
        target: `${site.url}/up`,
        proxyAuthorization: basic('alice', PASSWORD),
        accepted: true,
      });
      const host = new URL(site.url).host;
      expect(await connectVia(port, host)).toBe(200);
      expect(upstream.seen.at(-1)).toMatchObject({ method: 'CONNECT', target: host, accepted: true });
    } finally {
      proxy.close();
    }
  });

  it('refuses wrong credentials, a silent upstream and an unreachable one, and stays direct', async () => {
    const proxy = new ForwardProxy(log, policy());
    await proxy.listen();
    const silent = net.createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    try {
      await expect(
        proxy.useUpstream({ url: upstream.url, username: 'alice', password: 'wrong-secret-x1' }),
      ).rejects.toThrow('The upstream proxy refused the credentials (407)');
      await expect(proxy.useUpstream({ url: upstream.url })).rejects.toThrow(
        'The upstream proxy requires credentials (407); none were given',
      );
      await expect(proxy.useUpstream({ url: `http://127.0.0.1:${silentPort}` }, 300)).rejects.toThrow(
        `The upstream proxy at 127.0.0.1:${silentPort} did not answer within 0.3 s`,
      );
      silent.close();
      await expect(proxy.useUpstream({ url: `http://127.0.0.1:${silentPort}` })).rejects.toThrow(
        /could not be reached \(ECONNREFUSED\)/,
      );
      expect(proxy.status().mode).toBe('direct');
    } finally {
      silent.close();
      proxy.close();
    }
  });

  it('a 407 during the session becomes a 502 for the page and a recorded error, never a prompt', async () => {
    const proxy = new ForwardProxy(log, policy());
    const port = await proxy.listen();
    const fickle = await startFickleProxy();
    try {
      await proxy.useUpstream({ url: fickle.url, username: 'alice', password: PASSWORD });
      expect((await getVia(port, `${site.url}/x`)).status).toBe(502);
      expect(await connectVia(port, new URL(site.url).host)).toBe(502);
      expect(proxy.status()).toEqual({
        mode: 'upstream',
        lastError: 'The upstream proxy refused the credentials (407)',
      });
    } finally {
      fickle.server.close();
      proxy.close();
    }
  });

  it('never logs a password', () => {
    expect(logLines.length).toBeGreaterThan(0);
    for (const secret of [PASSWORD, 'wrong-secret-x1', basic('alice', PASSWORD).slice(6)])
      expect(logLines.join('\n')).not.toContain(secret);
  });

  it('POST /session parsing (the agent and the sim) accepts a proxy and refuses what it cannot use', () => {
    expect(
      parseSessionConfig(JSON.stringify({ proxy: { url: 'http://p:3128', username: 'u', password: 'x' } })),
    ).toEqual({
      proxy: { url: 'http://p:3128', username: 'u', password: 'x' },
    });
    expect(parseSessionConfig(JSON.stringify({ proxy: { url: 'socks5://p:1080' } }))).toBe(
      'proxy.url must be an http:// URL',
    );
    expect(parseSessionConfig(JSON.stringify({ proxy: { url: 'http://u:x@p:3128' } }))).toBe(
      'proxy.url must not carry credentials',
    );
    expect(parseSessionConfig(JSON.stringify({ proxy: { url: 'http://p', password: 5 } }))).toMatch(
      /password/,
    );
  });
});

describe('the sim driver', () => {
  it('accepts a proxy in POST /session without any traffic (load tests keep working)', async () => {
    const h = await simHarness(0);
    try {
      const pod = await h.driver.createPod({ id: podId('sim-proxy'), pool: 'p', headless: true });
      await expect(
        h.driver.configureSession(pod, {
          proxy: { url: 'http://127.0.0.1:9', username: 'u', password: 'x' },
        }),
      ).resolves.toBeUndefined();
    } finally {
      await h.cleanup();
    }
  });
});

/** An upstream that passes the claim-time check (502 for the probe) but answers 407 to everything else. */
async function startFickleProxy(): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((_req, res) => res.writeHead(407).end());
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
    const status = req.url === PROBE_TARGET ? '502 Bad Gateway' : '407 Proxy Authentication Required';
    socket.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\n\r\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
