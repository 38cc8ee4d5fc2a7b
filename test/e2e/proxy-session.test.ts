/**
 * Per-session proxy on a warm pod, end to end: the whole stack, real Chromium, and a real upstream
 * proxy on 127.0.0.1 that requires credentials (test/support/auth-proxy.ts). Logs are captured at
 * debug level to prove the proxy password reaches none of them.
 */
import { listenOnPagePort } from '../support/page-ports.ts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../stack/stack.ts';
import { createLogger } from '../../core/logging/logger.ts';
import { ApiClient, type ApiResponse } from '../support/api-client.ts';
import { startAuthProxy, type AuthProxy } from '../support/auth-proxy.ts';
import { serveLocalSite, type LocalSite } from '../support/local-page.ts';
import { poolSnapshot } from '../support/pool-snapshot.ts';
import { TestContext } from '../support/test-context.ts';

const POOL = 'us-east1-chromium';
const USER = 'proxy-user';
const PASSWORD = 'Pr0xy-pa55-e2e-91c2';
const WRONG = 'wr0ng-pa55-e2e-55d0';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

/** A TLS server on 127.0.0.1 with a throwaway self-signed certificate (openssl). */
async function serveTls(): Promise<{ url: string; close(): void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ventus-tls-'));
  const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'].concat([
        '-keyout',
        key,
        '-out',
        cert,
      ]),
      { stdio: 'ignore' },
    );
    const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><title>tls page</title>');
    });
    await listenOnPagePort(server);
    return {
      url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => server.close(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('per-session upstream proxy on a warm pod', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;
  let site: LocalSite;
  let upstream: AuthProxy;
  const logLines: string[] = [];
  /** Every API response body this test received. */
  const bodies: unknown[] = [];
  const keep = <T>(res: ApiResponse<T>): ApiResponse<T> => {
    bodies.push(res.body);
    return res;
  };

  beforeAll(async () => {
    // The upstream proxy listens on 127.0.0.1, which sessions may name only when allowed.
    ctx = await TestContext.create({
      minReady: 1,
      maxTotal: 3,
      env: { VENTUS_ALLOW_PRIVATE_TARGETS: 'true' },
    });
    const log = createLogger(
      'debug',
      { test: ctx.name },
      { write: (line: string) => void logLines.push(line) },
    );
    stack = await startStack(ctx.config, { databaseUrl: ctx.databaseUrl, redisUrl: ctx.redisUrl }, log);
    (ctx.config as { publicUrl: string }).publicUrl = stack.url;
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
    site = await serveLocalSite();
    upstream = await startAuthProxy(USER, PASSWORD);
  });
  afterAll(async () => {
    await upstream?.close();
    await site?.close();
    await stack?.close();
    await ctx?.close();
  });

  /** Waits until the pool holds a warm pod and returns the warm pod ids. */
  async function warmPodIds(): Promise<string[]> {
    const { redis, redisKeys: keys } = stack.services;
    await expect
      .poll(async () => (await poolSnapshot(redis, keys, POOL)).warm, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(1);
    return redis.lrange(keys.poolWarm(POOL), 0, -1);
  }

  async function podIdOf(sessionId: string): Promise<string> {
    const { rows } = await ctx.db.query<{ pod_id: string }>('SELECT pod_id FROM sessions WHERE id = $1', [
      sessionId,
    ]);
    return rows[0]!.pod_id;
  }

  it('a proxied session from the warm pool reaches pages through the upstream, with credentials', async () => {
    const warm = await warmPodIds();
    const created = keep(
      await api.createSession({ proxy: { url: upstream.url, username: USER, password: PASSWORD } }),
    );
    expect(created.status).toBe(202);
    expect(created.body.proxy).toEqual({ url: upstream.url, username: USER });
    const running = keep(await api.getSession((await api.waitFor(created.body.id, ['RUNNING'])).id)).body;
    expect(warm).toContain(await podIdOf(running.id));

    const tls = await serveTls();
    const browser = await chromium.connectOverCDP(running.connect_url);
    try {
      // (a) plain HTTP on loopback: Chromium sends it to the pod's proxy (<-loopback>), which sends it up.
      const page = await browser.contexts()[0]!.newPage();
      await page.goto(`${site.url}/through-upstream`);
      expect(await page.title()).toBe('Ventus test page');
      expect(upstream.seen).toContainEqual({
        method: 'GET',
        target: `${site.url}/through-upstream`,
        proxyAuthorization: basic(USER, PASSWORD),
        accepted: true,
      });
      // (b) HTTPS: a CONNECT tunnel through the upstream, with credentials.
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const tlsPage = await context.newPage();
      await tlsPage.goto(`${tls.url}/`);
      expect(await tlsPage.title()).toBe('tls page');
      expect(upstream.seen).toContainEqual({
        method: 'CONNECT',
        target: new URL(tls.url).host,
        proxyAuthorization: basic(USER, PASSWORD),
        accepted: true,
      });
      expect(upstream.seen.filter((r) => !r.accepted)).toEqual([]);
    } finally {
      await browser.close();
      tls.close();
    }
    await api.waitFor(running.id, ['COMPLETED']);
  });

  it('wrong credentials end the session ERRORED with a clear error, and the password shows nowhere', async () => {
    await warmPodIds();
    const created = keep(
      await api.createSession({ proxy: { url: upstream.url, username: USER, password: WRONG } }),
    );
    const ended = await api.waitFor(created.body.id, ['RUNNING', 'COMPLETED', 'EXPIRED', 'ERRORED']);
    expect(ended).toMatchObject({
      status: 'ERRORED',
      release_reason: 'provision_failed',
      error: 'The upstream proxy refused the credentials (407)',
    });
    expect(upstream.seen).toContainEqual(
      expect.objectContaining({ method: 'CONNECT', proxyAuthorization: basic(USER, WRONG), accepted: false }),
    );
    keep(await api.getSession(ended.id));
    keep(await api.request('GET', `/v1/sessions/${ended.id}/transitions`));
    keep(await api.request('GET', '/v1/sessions'));

    const everything = JSON.stringify(bodies) + logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(10);
    expect(everything).toContain(created.body.id);
    for (const secret of [PASSWORD, WRONG, basic(USER, PASSWORD).slice(6), basic(USER, WRONG).slice(6)])
      expect(everything).not.toContain(secret);
  });

  it('a session without a proxy goes direct, loopback pages included', async () => {
    await warmPodIds();
    const seenBefore = upstream.seen.length;
    const s = await api.waitFor((await api.createSession()).body.id, ['RUNNING']);
    const browser = await chromium.connectOverCDP(s.connect_url);
    try {
      const page = await browser.contexts()[0]!.newPage();
      await page.goto(`${site.url}/direct`);
      expect(await page.title()).toBe('Ventus test page');
    } finally {
      await browser.close();
    }
    expect(upstream.seen.length).toBe(seenBefore);
  });

  it('refuses proxies the pod cannot use at create: 400 by the documented pattern', async () => {
    for (const url of [
      'socks5://127.0.0.1:1080',
      'https://127.0.0.1:8443',
      `http://${USER}:${PASSWORD}@127.0.0.1:3128`,
    ]) {
      const res = keep(await api.createSession({ proxy: { url } }));
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).not.toContain(PASSWORD);
    }
  });
});
