/**
 * Rotating the JWT signing keys on a real stack (Postgres, Redis, BullMQ, the proxy, headless
 * Chromium) with the real `ventus signing-keys` CLI: an install upgraded from one secret, a rotation
 * while a session runs, a second process, forged kids, and the sweep job deleting the old key once its
 * session ended. The clock is moved by editing timestamps (the rotation "an hour ago").
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createDatabase, type Database } from '../../core/db/database.ts';
import { listAuditForTarget } from '../../core/db/audit.repository.ts';
import { openSessionTokens } from '../../core/security/open-session-tokens.ts';
import { SIGNING_KEY_SWEEP_MS, sweepSigningKeys } from '../../core/security/signing-key-sweep.ts';
import type { SessionTokens } from '../../core/security/cdp-token.ts';
import type { Stack } from '../../stack/stack.ts';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { upgradeStatus } from '../support/raw-http.ts';
import { eventually } from '../support/eventually.ts';
import {
  kidOf,
  kidlessToken,
  storedSecret,
  upgradeFromSingleSecret,
} from '../support/signing-key-fixtures.ts';

const run = promisify(execFile);
const VENTUS = fileURLToPath(new URL('../../bin/ventus.js', import.meta.url));
const OLD_SECRET = 'the-cdp-jwt-secret-this-install-had-before-0007';

interface KeyJson {
  kid: string;
  state: string;
  source: string;
  retired?: string[];
}

describe('signing-key rotation on a running stack', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;
  let ws: string;
  let otherDb: Database;
  /** The tokens of a second process over the same database. */
  let second: SessionTokens;
  let newKid: string;
  let a: { id: string; token: string; kidless: string };
  let b: { id: string; token: string };

  const cdp = (id: string, token: string) =>
    upgradeStatus(stack.port, `/v1/sessions/${id}/cdp?token=${token}`);
  async function ventus(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = {
      ...process.env,
      DATABASE_URL: ctx.databaseUrl,
      REDIS_URL: ctx.redisUrl,
      VENTUS_REDIS_PREFIX: ctx.name,
      VENTUS_LOG_LEVEL: 'warn',
    };
    try {
      return { code: 0, ...(await run('node', [VENTUS, 'signing-keys', ...args], { env })) };
    } catch (err) {
      return err as { code: number; stdout: string; stderr: string };
    }
  }
  async function running(): Promise<{ id: string; token: string }> {
    // keep_alive > 0: the probes connect and drop, which must not release the session.
    const created = await api.createSession({ keep_alive_seconds: 600 });
    const session = await api.waitFor(created.body.id, ['RUNNING'], 60_000);
    return { id: session.id, token: new URL(session.connect_url).searchParams.get('token')! };
  }

  beforeAll(async () => {
    ctx = await TestContext.create({
      minReady: 2,
      maxTotal: 4,
      env: { VENTUS_HEADLESS: 'true', VENTUS_RATE_LIMIT_PER_MINUTE: '1000000' },
    });
    await upgradeFromSingleSecret(ctx.db, OLD_SECRET);
    stack = await ctx.startStack();
    const seeded = await ctx.seedKey();
    ws = seeded.workspaceId;
    api = new ApiClient(stack.url, seeded.apiKey);
    otherDb = createDatabase(ctx.databaseUrl, { max: 2 });
  }, 120_000);
  afterAll(async () => {
    await otherDb?.end();
    await stack?.close();
    await ctx?.close();
  });

  it('before a rotation: connect_url names the legacy key, and a kid-less token of the old version connects', async () => {
    const session = await running();
    a = { ...session, kidless: await kidlessToken(OLD_SECRET, { ws, sub: session.id, aud: 'cdp' }) };
    expect(kidOf(a.token)).toBe('legacy');
    expect(kidOf(a.kidless)).toBeUndefined();
    expect(await cdp(a.id, a.token)).toBe(101);
    expect(await cdp(a.id, a.kidless)).toBe(101);
  }, 90_000);

  it('ventus signing-keys rotate adds a signing key and retires the old one; list never shows a secret', async () => {
    const rotated = await ventus('rotate', '--json');
    expect(rotated.code, rotated.stderr).toBe(0);
    const key = JSON.parse(rotated.stdout) as KeyJson;
    expect(key).toMatchObject({ state: 'signing', source: 'generated', retired: ['legacy'] });
    newKid = key.kid;
    // The rotation happened an hour ago, and session A was created an hour before it.
    await ctx.db.query(
      `UPDATE signing_keys SET retired_at = retired_at - interval '1 hour' WHERE kid = 'legacy'`,
    );
    await ctx.db.query(`UPDATE sessions SET created_at = created_at - interval '2 hours' WHERE id = $1`, [
      a.id,
    ]);

    const listed = await ventus('list', '--json');
    const { data } = JSON.parse(listed.stdout) as { data: KeyJson[] };
    expect(data.map((k) => [k.kid, k.state])).toEqual([
      ['legacy', 'verifying'],
      [newKid, 'signing'],
    ]);
    for (const kid of ['legacy', newKid]) {
      const secret = (await storedSecret(ctx.db, kid))!;
      expect(listed.stdout).not.toContain(secret);
      expect(rotated.stdout).not.toContain(secret);
    }
    const text = await ventus('list');
    expect(text.stdout.split('\n')[0]!.split(/\s+/)).toEqual([
      'KID',
      'STATE',
      'SOURCE',
      'CREATED',
      'RETIRED',
      'DELETED',
    ]);
    const refused = await ventus('spin');
    expect([refused.code, refused.stdout]).toEqual([2, '']);
    expect(refused.stderr).toContain('unknown command: ventus signing-keys spin');
    expect((await listAuditForTarget(ctx.db, 'signing_key', newKid))[0]).toMatchObject({
      action: 'signing_key.rotated',
      actor: 'cli',
      class: 'admin',
    });
    // Four CLI runs: each starts Node and compiles the CLI, seconds apiece on a loaded machine.
  }, 180_000);

  it('connect_urls minted before still connect; a second process and then the stack sign with the new kid', async () => {
    expect(await cdp(a.id, a.token)).toBe(101);
    expect(await cdp(a.id, a.kidless)).toBe(101);
    second = await openSessionTokens(otherDb, undefined);
    const fromSecond = await second.cdpToken(ws, a.id, new Date());
    expect(kidOf(fromSecond)).toBe(newKid);
    // Unless its minute's refresh came first, the stack does not know the new kid: it reads the keys.
    expect(await cdp(a.id, fromSecond)).toBe(101);
    b = await running();
    expect(kidOf(b.token)).toBe(newKid);
    expect(await cdp(b.id, b.token)).toBe(101);
    expect((await second.verify(b.token, 'cdp')).sessionId).toBe(b.id);
  }, 90_000);

  it('unknown, forged and mismatched kids are 401; the retired key cannot vouch for a later session', async () => {
    const newSecret = (await storedSecret(ctx.db, newKid))!;
    const forged = [
      await kidlessToken(newSecret, { ws, sub: b.id, aud: 'cdp' }, { kid: 'kNOSUCHKEY' }),
      await kidlessToken(OLD_SECRET, { ws, sub: b.id, aud: 'cdp' }, { kid: newKid }),
      await kidlessToken(
        'an-attacker-chosen-secret-of-some-length',
        { ws, sub: b.id, aud: 'cdp' },
        { kid: newKid },
      ),
      await kidlessToken(newSecret, { ws, sub: b.id, aud: 'cdp' }, { kid: ['legacy', newKid] }),
      // The new key has no kid-less form: that is the legacy key's alone.
      await kidlessToken(newSecret, { ws, sub: b.id, aud: 'cdp' }),
      // Signed by the retired key, for a session created after its retirement.
      await kidlessToken(OLD_SECRET, { ws, sub: b.id, aud: 'cdp' }),
      await kidlessToken(OLD_SECRET, { ws, sub: b.id, aud: 'cdp' }, { kid: 'legacy' }),
    ];
    for (const token of forged) expect(await cdp(b.id, token), JSON.stringify(kidOf(token))).toBe(401);
    expect(await cdp(b.id, b.token)).toBe(101);
  });

  it('once its session ended, the sweep job deletes the old key, and its tokens are refused', async () => {
    const connection = new Redis(ctx.redisUrl);
    const maintenance = new Queue('maintenance', { connection, prefix: stack.services.queuePrefix });
    try {
      // The workers register their schedulers as they start: on a busy machine, maybe not yet.
      await eventually(
        'the signing-key sweep is scheduled',
        async () =>
          (await maintenance.getJobSchedulers()).find((s) => s.key === 'signing-key-sweep')?.every ===
          SIGNING_KEY_SWEEP_MS,
        { timeoutMs: 30_000, everyMs: 200 },
      );
      // Session A still runs: the sweep keeps the key it was made under.
      const { db, tokens, config } = stack.services;
      const sweepNow = () =>
        sweepSigningKeys({ db, keys: tokens.keys, recordingUrlTtlSeconds: config.recordingUrlTtlSeconds });
      expect(await sweepNow()).toEqual([]);
      expect(await storedSecret(ctx.db, 'legacy')).toBe(OLD_SECRET);

      await api.release(a.id);
      await api.waitFor(a.id, ['COMPLETED']);
      expect(await cdp(a.id, a.kidless)).toBe(410); // still a genuine token, of an ended session
      // The workers' scheduled job, made to run now rather than in five minutes.
      await stack.services.jobs.schedule('signing-key-sweep', {}, 200);
      await eventually(
        'the legacy key is deleted',
        async () => (await storedSecret(ctx.db, 'legacy')) === null,
        {
          timeoutMs: 30_000,
          everyMs: 100,
        },
      );
    } finally {
      await maintenance.close();
      connection.disconnect();
    }
    // The sweeping process dropped it at once; others within their refresh.
    expect(await cdp(a.id, a.kidless)).toBe(401);
    expect(await cdp(a.id, a.token)).toBe(401);
    expect(await cdp(b.id, b.token)).toBe(101);
    const { data } = JSON.parse((await ventus('list', '--json')).stdout) as { data: KeyJson[] };
    expect(data.find((k) => k.kid === 'legacy')?.state).toBe('deleted');
    expect(
      (await listAuditForTarget(ctx.db, 'signing_key', 'legacy')).map((e) => [e.action, e.actor]),
    ).toEqual([['signing_key.deleted', 'workers']]);
  }, 90_000);
});
