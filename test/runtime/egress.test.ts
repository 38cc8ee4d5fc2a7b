/**
 * The egress check a pod applies to every request and tunnel its pages open (after DNS resolution),
 * and the operator's allow-list: unit cases for the policy, then the pod's forwarding proxy on real
 * sockets with a resolver that answers like a rebinding DNS server would. No packet is ever sent to
 * a private or metadata address here: refusals happen before any connection.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/config.ts';
import { egressRefusal, type EgressPolicy } from '../../core/security/egress-policy.ts';
import { checkEgress } from '../../runtime-image/agent/egress.check.ts';
import { ForwardProxy } from '../../runtime-image/agent/forward-proxy.ts';

const STRICT: EgressPolicy = { allow: [], allowPrivate: false };

describe('the egress policy (after resolution)', () => {
  const cases: [string, string, EgressPolicy, boolean][] = [
    ['a public address', '93.184.216.34', STRICT, true],
    ['loopback', '127.0.0.1', STRICT, false],
    ['loopback (127/8)', '127.1.2.3', STRICT, false],
    ['IPv6 loopback', '::1', STRICT, false],
    ['IPv4-mapped loopback', '::ffff:127.0.0.1', STRICT, false],
    ['the unspecified address', '0.0.0.0', STRICT, false],
    ['link-local', '169.254.10.1', STRICT, false],
    ['AWS/GCP metadata', '169.254.169.254', STRICT, false],
    ['Alibaba metadata', '100.100.100.200', STRICT, false],
    ['AWS IPv6 metadata', 'fd00:ec2::254', STRICT, false],
    ['10/8', '10.1.2.3', STRICT, false],
    ['172.16/12', '172.20.0.1', STRICT, false],
    ['192.168/16', '192.168.1.1', STRICT, false],
    ['100.64/10', '100.64.0.1', STRICT, false],
    ['fc00::/7', 'fd12::1', STRICT, false],
    ['10/8 when private ranges are allowed', '10.1.2.3', { allow: [], allowPrivate: true }, true],
    ['loopback even when private ranges are allowed', '127.0.0.1', { allow: [], allowPrivate: true }, false],
    [
      'metadata even when private ranges are allowed',
      '169.254.169.254',
      { allow: [], allowPrivate: true },
      false,
    ],
  ];
  it.each(cases)('%s (%s)', (_what, address, policy, allowed) => {
    expect(egressRefusal(policy, 'page', 'example.test', 80, address) === undefined).toBe(allowed);
  });

  it('allow-listed host:port pairs pass exactly, and nothing else on that host', () => {
    const policy: EgressPolicy = { allow: ['127.0.0.1:3000', 'site.test:8080'], allowPrivate: false };
    expect(egressRefusal(policy, 'page', '127.0.0.1', 3000, '127.0.0.1')).toBeUndefined();
    expect(egressRefusal(policy, 'page', '127.0.0.1', 3001, '127.0.0.1')).toMatch(/loopback/);
    expect(egressRefusal(policy, 'page', 'site.test', 8080, '127.0.0.1')).toBeUndefined();
    expect(egressRefusal(policy, 'page', 'localhost', 3000, '127.0.0.1')).toMatch(/loopback/);
  });

  it('an upstream proxy may be private or loopback only when the operator allows private targets', () => {
    expect(egressRefusal(STRICT, 'upstream-proxy', 'proxy.test', 3128, '127.0.0.1')).toMatch(/loopback/);
    const open: EgressPolicy = { allow: [], allowPrivate: true };
    expect(egressRefusal(open, 'upstream-proxy', 'proxy.test', 3128, '127.0.0.1')).toBeUndefined();
    expect(egressRefusal(open, 'upstream-proxy', 'proxy.test', 80, '169.254.169.254')).toMatch(/metadata/);
  });

  it('judges every address a name resolves to (one private answer among public ones is refused)', async () => {
    const resolve = async (host: string) =>
      ({ 'mixed.test': ['93.184.216.34', '10.0.0.5'], 'public.test': ['93.184.216.34'] })[host] ?? [];
    expect(await checkEgress(STRICT, 'page', 'mixed.test', 443, resolve)).toEqual({
      refused: 'a private network address',
    });
    expect(await checkEgress(STRICT, 'page', 'public.test', 443, resolve)).toEqual({
      address: '93.184.216.34',
    });
    expect(await checkEgress(STRICT, 'page', 'nothing.test', 443, resolve)).toEqual({
      refused: 'a name that does not resolve',
    });
  });
});

describe('VENTUS_EGRESS_ALLOW', () => {
  it('takes exact host:port pairs', () => {
    const config = loadConfig({ VENTUS_EGRESS_ALLOW: '127.0.0.1:3000, Site.Test:8443,[::1]:4000' });
    expect(config.egressAllow).toEqual(['127.0.0.1:3000', 'site.test:8443', '[::1]:4000']);
  });

  it.each([
    ['127.0.0.1:8080', /control plane/], // the service's own port
    ['localhost:5432', /control plane/], // Postgres
    ['127.0.0.1:6379', /control plane/], // Redis
    ['0.0.0.0:9222', /control plane/], // a pod agent's port in the runtime image
    ['169.254.169.254:80', /metadata/],
    ['127.0.0.1', /not host:port/],
    ['127.0.0.1:99999', /not host:port/],
    ['http://127.0.0.1:3000', /not host:port/],
  ])('refuses %s', (entry, why) => {
    expect(() => loadConfig({ VENTUS_EGRESS_ALLOW: entry })).toThrow(why);
  });

  it('refuses the database and Redis the service is configured with', () => {
    const env = {
      DATABASE_URL: 'postgres://u@db.internal:6543/v',
      REDIS_URL: 'redis://cache.internal:7000',
    };
    expect(() => loadConfig({ ...env, VENTUS_EGRESS_ALLOW: 'db.internal:6543' })).toThrow(/control plane/);
    expect(() => loadConfig({ ...env, VENTUS_EGRESS_ALLOW: '127.0.0.1:7000' })).toThrow(/control plane/);
  });
});

describe("the pod's forwarding proxy refuses before it connects", () => {
  let target: http.Server;
  let targetPort: number;
  let hits = 0;
  let proxy: ForwardProxy;
  let proxyPort: number;
  // A rebinding DNS server: every name answers with the loopback target.
  const rebinding = async () => ['127.0.0.1'];

  beforeAll(async () => {
    target = http.createServer((_req, res) => {
      hits++;
      res.end('secret');
    });
    target.on('connect', (_req, socket: net.Socket) => {
      hits++;
      socket.destroy();
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetPort = (target.address() as AddressInfo).port;
    proxy = new ForwardProxy(pino({ level: 'silent' }), STRICT, rebinding);
    proxyPort = await proxy.listen();
  });
  afterAll(async () => {
    proxy.close();
    await new Promise((r) => target.close(r));
  });

  function get(url: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxyPort, path: url }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject).end();
    });
  }

  function connect(target: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: target });
      req.once('connect', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject).end();
    });
  }

  it('a literal loopback address, a name that resolves to one, and localhost: 403, never reached', async () => {
    for (const host of ['127.0.0.1', 'rebind.attacker.test', 'localhost', '[::ffff:127.0.0.1]']) {
      const res = await get(`http://${host}:${targetPort}/storage-state`);
      expect(res.status, host).toBe(403);
      expect(res.body).toMatch(/may not reach/);
      expect(await connect(`${host}:${targetPort}`), host).toBe(403);
    }
    expect(hits).toBe(0);
  });

  it('metadata names and addresses: 403', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://metadata.google.internal/'])
      expect((await get(url)).status).toBe(403);
    expect(await connect('169.254.169.254:443')).toBe(403);
  });

  it('an allow-listed pair is reached (through the address the check approved)', async () => {
    const allowed = new ForwardProxy(
      pino({ level: 'silent' }),
      { allow: [`allowed.test:${targetPort}`], allowPrivate: false },
      rebinding,
    );
    const port = await allowed.listen();
    try {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, path: `http://allowed.test:${targetPort}/` },
          (r) => {
            let body = '';
            r.setEncoding('utf8').on('data', (c: string) => (body += c));
            r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject).end();
      });
      expect(res).toEqual({ status: 200, body: 'secret' });
      expect(hits).toBe(1);
    } finally {
      allowed.close();
    }
  });

  it('an upstream proxy on loopback is refused at claim unless private targets are allowed', async () => {
    await expect(proxy.useUpstream({ url: `http://127.0.0.1:${targetPort}` })).rejects.toThrow(/loopback/);
    expect(hits).toBe(1);
  });
});
