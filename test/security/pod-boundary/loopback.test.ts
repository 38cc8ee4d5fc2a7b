/**
 * Attack 6 of issue 15: loopback services, from B's visited hostile page and from A's pages (through
 * the forwarding proxy and in a `direct://` context), plus A's CDP reading them in tabs:
 * - the service's own port (broker and CDP proxy): GET /metrics and /v1/sessions, a WebSocket;
 * - Postgres (5432) and Redis (6379): a no-cors POST whose body carries a harmless Redis command that
 *   sets `ventus:attack:<random>`;
 * - a canary HTTP service of the test on 127.0.0.1, allow-listed nowhere;
 * - inside the browser's own network: its DevTools and the egress bridge, on bad ports
 *   (browser.sandbox.ts). Safe: no request leaves a page for them, in any context, and no tab reads them.
 * Private (10/8, 172.16/12, 192.168/16, 100.64/10) and metadata (169.254.169.254) addresses are
 * written too, but this workplace forbids sending them a packet: they run only when
 * VENTUS_ATTACK_PRIVATE_TARGETS=run and this run showed that every page request is checked (no
 * loopback attempt got through from any vector), and are skipped otherwise.
 *
 * Safe outcome: the canary sees no request, the control plane sees no WebSocket and nothing of it is
 * read, the Redis key does not exist. (Redis refuses HTTP itself, so the key alone cannot catch a page
 * reaching it; the canary does.)
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl } from '../../support/env.ts';
import { AttackTable, excerpt } from './attack-table.ts';
import { standardVectors, type Vector } from './attack-vectors.ts';
import { BoundaryStack, type AttackerPages } from './boundary-stack.ts';
import type { AttackPlan } from './hostile-page.ts';
import { SANDBOX_DEVTOOLS_PORT, SANDBOX_PROXY_PORT } from '../../../runtime-image/agent/browser.sandbox.ts';
import { WARMUP_HOST } from '../../../runtime-image/agent/network.warmup.ts';

const LOOPBACK = '6 reach a loopback service';
/** The ports in the browser's own network namespace, asked for by URL: read, and sent blind. */
const bridgeFetches = [
  {
    label: 'bridge: own DevTools',
    url: `http://127.0.0.1:${SANDBOX_DEVTOOLS_PORT}/json/version`,
    mode: 'cors',
  },
  {
    label: 'bridge: own DevTools, blind',
    url: `http://127.0.0.1:${SANDBOX_DEVTOOLS_PORT}/json/list`,
    mode: 'no-cors',
  },
  { label: 'bridge: egress', url: `http://127.0.0.1:${SANDBOX_PROXY_PORT}/`, mode: 'cors' },
  { label: 'bridge: egress, blind', url: `http://127.0.0.1:${SANDBOX_PROXY_PORT}/x`, mode: 'no-cors' },
] as const;
const PRIVATE = '6 reach a private or metadata address';
const PRIVATE_TARGETS = ['10.0.0.1', '172.16.0.1', '192.168.0.1', '100.64.0.1', '169.254.169.254'];
/** What a cloud metadata service's answers hold. */
const METADATA_WORDS = /ami-id|instance-id|computeMetadata|meta-data|iam\/security-credentials/;

describe('pod boundary: loopback, private and metadata addresses', () => {
  const table = new AttackTable('loopback');
  let s: BoundaryStack;
  let redis: Redis;
  let pagesOfA: AttackerPages;
  let vectors: Vector[] = [];
  const key = `ventus:attack:${randomBytes(6).toString('hex')}`;
  let redisLog: string | undefined;

  /** Cross-protocol requests Redis refused and logged ("Possible SECURITY ATTACK detected"), if readable. */
  const redisAttacksLogged = () => {
    if (!redisLog) return undefined;
    try {
      return readFileSync(redisLog, 'utf8').split('SECURITY ATTACK').length - 1;
    } catch {
      return undefined;
    }
  };
  /** Each session's CDP connection count in Redis, as the proxy keeps it (proxy id -> sockets). */
  let sessionIds: string[] = [];
  let countsBefore: Record<string, string>[] = [];
  let countsAfter: Record<string, string>[] = [];
  const cdpCounts = () =>
    Promise.all(
      sessionIds.map((id) => s.stack.services.redis.hgetall(s.stack.services.redisKeys.cdpConnections(id))),
    );
  const controlPlaneRefusals = async () =>
    (await s.stack.services.metrics.cdpRefused.get()).values.reduce((n, v) => n + v.value, 0);

  beforeAll(async () => {
    s = await BoundaryStack.start({ minReady: 1, maxTotal: 4 });
    redis = new Redis(redisUrl());
    redisLog = ((await redis.config('GET', 'logfile')) as string[])[1] || undefined;
    const [a, b] = await Promise.all([s.session('A'), s.session('B')]);
    const hostile = await s.hostilePage(b);
    pagesOfA = await s.attackerPages(await s.attackerCdp(a));
    vectors = standardVectors(hostile, pagesOfA);
    const broker = `http://127.0.0.1:${s.stack.port}`;
    const redisLoggedBefore = redisAttacksLogged();
    // The proxy counts a connect before it finds the session's route, and takes the count back if it
    // refuses: nothing the pages try may leave a count on either session (a stale one would refuse
    // the tenant's own clients at the workspace's cap).
    sessionIds = [a.id, b.id];
    countsBefore = await cdpCounts();
    for (const [i, v] of vectors.entries()) {
      const tag = `v${i}`;
      const plan: AttackPlan = {
        // The control plane's port, and the browser's own DevTools port (a WebSocket straight at it).
        ports: [s.stack.port, SANDBOX_DEVTOOLS_PORT],
        phases: ['devtools'],
        fetches: [
          { label: 'canary GET', url: `${s.canary.url}/${tag}/get`, mode: 'cors' },
          {
            label: 'canary POST',
            url: `${s.canary.url}/${tag}/post`,
            method: 'POST',
            body: 'x',
            mode: 'no-cors',
          },
          { label: 'broker GET /metrics', url: `${broker}/metrics`, mode: 'cors' },
          { label: 'broker GET /v1/sessions', url: `${broker}/v1/sessions`, mode: 'cors' },
          // Inside the browser's own network: its DevTools (what the bridge carries to the agent) and
          // the egress bridge itself, asked for directly: read, and sent blind.
          ...bridgeFetches,
          { label: 'Postgres', url: 'http://127.0.0.1:5432/', method: 'POST', body: '\r\n', mode: 'no-cors' },
          {
            label: 'Redis SET',
            url: 'http://127.0.0.1:6379/',
            method: 'POST',
            body: `\r\nSET ${key} ${tag}\r\n`,
            mode: 'no-cors',
          },
        ],
      };
      const refusedBefore = await controlPlaneRefusals();
      const report = await v.run(plan);
      const refused = (await controlPlaneRefusals()) - refusedBefore;
      const hits = s.canary.seen.filter((line) => line.includes(`/${tag}/`));
      table.add({
        attack: LOOPBACK,
        vector: v.name,
        target: 'canary HTTP service on 127.0.0.1 (GET and no-cors POST)',
        outcome: hits.length > 0 ? `REACHED: ${hits.join('; ')}` : 'never reached',
        safe: hits.length === 0,
      });
      const brokerReads = report.fetches.filter((f) => f.label.startsWith('broker') && f.read);
      table.add({
        attack: LOOPBACK,
        vector: v.name,
        target: `control plane ${broker} (WebSocket, GET /metrics, GET /v1/sessions)`,
        outcome:
          `${refused > 0 ? `REACHED: its CDP proxy refused ${refused} WebSocket(s)` : 'no WebSocket reached it'}; ` +
          (brokerReads.length > 0 ? `READ ${excerpt(brokerReads[0]!.read)}` : 'nothing readable'),
        safe: refused === 0 && brokerReads.length === 0,
      });
      // Bad ports (browser.sandbox.ts): the browser refuses to send a page's request, whatever the
      // context; even where a direct:// context would reach them (nothing else is in the way there).
      const bridgeSent = report.fetches.filter((f) => f.label.startsWith('bridge') && (f.sent || f.read));
      const devtoolsSocket = report.ports.find((p) => p.port === SANDBOX_DEVTOOLS_PORT);
      table.add({
        attack: LOOPBACK,
        vector: v.name,
        target: `the browser's own DevTools (127.0.0.1:${SANDBOX_DEVTOOLS_PORT}: GET, no-cors GET, WebSocket) and egress bridge (127.0.0.1:${SANDBOX_PROXY_PORT})`,
        outcome:
          (bridgeSent.length > 0
            ? `SENT ${bridgeSent.map((f) => `${f.label}${f.read ? `, read ${excerpt(f.read)}` : ''}`).join('; ')}`
            : 'no request left the page') +
          `; WebSocket ${devtoolsSocket?.opened ? 'OPENED' : `refused (${devtoolsSocket?.error})`}`,
        safe: bridgeSent.length === 0 && devtoolsSocket !== undefined && !devtoolsSocket.opened,
      });
      const pg = report.fetches.find((f) => f.label === 'Postgres')!;
      table.add({
        attack: LOOPBACK,
        vector: v.name,
        target: 'Postgres 127.0.0.1:5432 (no-cors POST)',
        outcome: `${pg.sent ? 'sent' : `not sent (${pg.error})`}; Postgres answers nothing a page can see, and its log is shared, so this is not judged`,
        safe: undefined,
      });
      const r = report.fetches.find((f) => f.label === 'Redis SET')!;
      table.add({
        attack: LOOPBACK,
        vector: v.name,
        target: 'Redis 127.0.0.1:6379 (no-cors POST carrying SET)',
        outcome: `${r.sent ? 'sent' : `not sent (${r.error})`}; judged below by the key`,
        safe: undefined,
      });
    }
    // Redis logs a cross-protocol request ("POST", "Host:") at most once a minute, and other runs'
    // sprays land there too: an observation, not a verdict (the key decides, below).
    const redisLoggedAfter = redisAttacksLogged();
    if (redisLoggedBefore !== undefined && redisLoggedAfter !== undefined)
      table.add({
        attack: LOOPBACK,
        vector: 'all pages',
        target: `Redis 127.0.0.1:6379 (its log ${redisLog})`,
        outcome:
          redisLoggedAfter > redisLoggedBefore
            ? 'Redis logged a cross-protocol request and closed it (not judged: rate-limited, shared log)'
            : 'Redis logged nothing (not judged: it logs one such request a minute at most)',
        safe: undefined,
      });
    // A's CDP reads them in tabs (no CORS in its way), through the proxy and in direct://.
    for (const [name, contextId] of [
      ["A's CDP: tab + read", undefined],
      ["A's CDP: tab + read in direct://", pagesOfA.directContextId],
    ] as const) {
      const urls = [
        `${s.canary.url}/tab/${name.length}`,
        `${broker}/metrics`,
        `${broker}/v1/sessions`,
        ...bridgeFetches.map((f) => f.url),
      ];
      for (const r of await pagesOfA.cdp.readInTabs(urls, contextId)) {
        // The bridges: the browser's version document, or the forwarding proxy's answer to a request
        // that is not a proxy's (the egress bridge itself reached in direct://).
        const reached = (
          r.url.includes(':' + SANDBOX_DEVTOOLS_PORT) || r.url.includes(':' + SANDBOX_PROXY_PORT)
            ? /webSocketDebuggerUrl|forward proxy needs/
            : /canary reached|ventus_|api\.sessions\.ventus\.ai\/errors/
        ).test(r.text ?? '');
        table.add({
          attack: LOOPBACK,
          vector: name,
          target: r.url,
          outcome: reached ? `READ: ${excerpt(r.text)}` : `nothing (${r.error ?? excerpt(r.text, 60)})`,
          safe: !reached,
        });
      }
    }
    // The one URL the agent answers itself (network.warmup.ts) has a path no page knows: A's CDP,
    // reading tabs through the forwarding proxy, tries the host and a guess. Both must be refused by
    // the egress check like any name that does not resolve, never answered (204, an empty page).
    for (const r of await pagesOfA.cdp.readInTabs([
      `http://${WARMUP_HOST}/`,
      `http://${WARMUP_HOST}/warmup`,
    ])) {
      const refused = /may not reach/.test(r.text ?? '');
      table.add({
        attack: LOOPBACK,
        vector: "A's CDP: tab + read",
        target: `${r.url} (the agent's warm-up host, guessed)`,
        outcome: refused ? `refused: ${excerpt(r.text, 80)}` : `ANSWERED: ${excerpt(r.text ?? r.error, 80)}`,
        safe: refused,
      });
    }
    countsAfter = await cdpCounts();
  }, 600_000);

  afterAll(async () => {
    table.print();
    await redis?.del(key);
    redis?.disconnect();
    await s?.close();
  });

  it('the canary, the control plane and Redis were never reached', () => {
    expect(table.count(LOOPBACK)).toBeGreaterThanOrEqual(vectors.length * 4);
    expect(table.unsafe(LOOPBACK)).toEqual([]);
  });

  it('no page or tab left a CDP connection count on either session', () => {
    table.add({
      attack: LOOPBACK,
      vector: 'all pages and tabs',
      target: "the proxy's CDP connection counts of A's and B's sessions (Redis)",
      outcome: `before ${JSON.stringify(countsBefore)}, after ${JSON.stringify(countsAfter)}`,
      safe: JSON.stringify(countsAfter) === JSON.stringify(countsBefore),
    });
    expect(countsAfter).toEqual(countsBefore);
  });

  it('the Redis key the pages tried to set does not exist', async () => {
    const value = await redis.get(key);
    table.add({
      attack: LOOPBACK,
      vector: 'all pages',
      target: `Redis key ${key}`,
      outcome: value === null ? 'not set' : `SET to ${value}`,
      safe: value === null,
    });
    expect(value).toBeNull();
  });

  it('private and metadata addresses are refused', async (test) => {
    const guarded = table.count(LOOPBACK) > 0 && table.unsafe(LOOPBACK).length === 0;
    if (process.env.VENTUS_ATTACK_PRIVATE_TARGETS !== 'run' || !guarded) {
      const why = guarded
        ? 'VENTUS_ATTACK_PRIVATE_TARGETS=run is not set (this workplace forbids packets to private and metadata addresses)'
        : 'page requests are not all checked (a loopback attempt got through), so a packet could leave the host';
      for (const ip of PRIVATE_TARGETS)
        table.add({
          attack: PRIVATE,
          vector: 'all',
          target: ip,
          outcome: `not run: ${why}`,
          safe: undefined,
        });
      test.skip(why);
    }
    const fetches = PRIVATE_TARGETS.map((ip) => ({ label: ip, url: `http://${ip}/`, mode: 'cors' as const }));
    for (const v of vectors) {
      const report = await v.run({ ports: [], phases: [], fetches });
      for (const f of report.fetches)
        table.add({
          attack: PRIVATE,
          vector: v.name,
          target: f.url,
          outcome: f.read ? `READ ${excerpt(f.read)}` : `nothing (${f.error ?? 'opaque'})`,
          safe: !f.read,
        });
    }
    for (const contextId of [undefined, pagesOfA.directContextId]) {
      const reads = await pagesOfA.cdp.readInTabs(
        fetches.map((f) => `${f.url}latest/meta-data/`),
        contextId,
      );
      for (const r of reads)
        table.add({
          attack: PRIVATE,
          vector: contextId ? "A's CDP: tab + read in direct://" : "A's CDP: tab + read",
          target: r.url,
          outcome: excerpt(r.text ?? r.error),
          safe: !METADATA_WORDS.test(r.text ?? ''),
        });
    }
    expect(table.unsafe(PRIVATE)).toEqual([]);
  });
});
