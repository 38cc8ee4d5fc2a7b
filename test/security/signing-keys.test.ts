/**
 * The signing keys over real Postgres, without a stack: the upgrade from one secret, VENTUS_JWT_SECRET
 * as a key held outside Postgres, the sweep's windows, a retired key that vouches only for sessions
 * made before its retirement, and how a second process learns of rotations and deletions (the clock
 * is the test double). The stack and the CLI are in key-rotation.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../core/db/database.ts';
import { getSetting } from '../../core/db/settings.repository.ts';
import { listAuditForTarget } from '../../core/db/audit.repository.ts';
import { listSigningKeys, rotateSigningKey } from '../../core/db/signing-keys.repository.ts';
import { SessionTokens } from '../../core/security/cdp-token.ts';
import { openSessionTokens, openSigningKeyring } from '../../core/security/open-session-tokens.ts';
import { sweepSigningKeys } from '../../core/security/signing-key-sweep.ts';
import { KEY_PROPAGATION_MS, KEY_REFRESH_MS, SigningKeyring } from '../../core/security/signing-keyring.ts';
import { TestContext } from '../support/test-context.ts';
import {
  kidOf,
  kidlessToken,
  storedSecret,
  upgradeFromSingleSecret,
} from '../support/signing-key-fixtures.ts';

const OLD_SECRET = 'the-cdp-jwt-secret-of-an-older-install';
const ENV_SECRET = 'a-configured-ventus-jwt-secret-0123456789';
const CLI = { id: 'cli', class: 'admin' } as const;
/** Retirement + propagation + the longest expiring token (recording URL, 600 s by default). */
const SPENT_AFTER_MS = KEY_PROPAGATION_MS + 600_000;

describe('signing keys over Postgres', () => {
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close();
  });
  async function context(): Promise<TestContext> {
    const ctx = await TestContext.create();
    opened.push(ctx);
    return ctx;
  }
  /** Another process's connection pool over the same database. */
  function otherProcessDb(ctx: TestContext): Database {
    const db = createDatabase(ctx.databaseUrl, { max: 2 });
    opened.push({ close: () => db.end() });
    return db;
  }
  /**
   * A process's tokens over `db`, where every session named was created long before any rotation
   * (these tests make no sessions; the retired-key check has its own test below).
   */
  const processTokens = async (db: Database, envSecret?: string, now?: () => number) =>
    new SessionTokens(await openSigningKeyring(db, envSecret, { now }), {
      sessionCreatedAt: async () => new Date(0),
    });
  const sweep = (db: Database, keys: SigningKeyring, now: Date) =>
    sweepSigningKeys({ db, keys, recordingUrlTtlSeconds: 600 }, now);

  it('an upgrade makes the old secret the legacy key: its kid-less tokens verify, its new tokens carry a kid', async () => {
    const ctx = await context();
    await upgradeFromSingleSecret(ctx.db, OLD_SECRET);
    expect(await getSetting(ctx.db, 'cdp_jwt_secret')).toBeUndefined(); // no second copy left behind
    expect(await storedSecret(ctx.db, 'legacy')).toBe(OLD_SECRET);
    const tokens = await openSessionTokens(ctx.db, undefined);
    const before = await kidlessToken(OLD_SECRET, { ws: 'ws1', sub: 's1', aud: 'cdp' });
    expect(await tokens.verify(before, 'cdp')).toMatchObject({ workspaceId: 'ws1', sessionId: 's1' });
    const minted = await tokens.cdpToken('ws1', 's1', new Date());
    expect(kidOf(minted)).toBe('legacy');
    expect(await tokens.verify(minted, 'cdp')).toMatchObject({ sessionId: 's1' });
  });

  it('a fresh install gets a generated key and accepts no kid-less token', async () => {
    const ctx = await context();
    const tokens = await openSessionTokens(ctx.db, undefined);
    const [key] = await listSigningKeys(ctx.db);
    expect(key).toMatchObject({ source: 'generated', legacy: false, retiredAt: null });
    const secret = (await storedSecret(ctx.db, key!.kid))!;
    expect(kidOf(await tokens.liveViewToken('ws1', 's1'))).toBe(key!.kid);
    // Signed with the right secret, but no kid: only a legacy key may verify that.
    await expect(
      tokens.verify(await kidlessToken(secret, { ws: 'ws1', sub: 's1', aud: 'cdp' }), 'cdp'),
    ).rejects.toThrow();
    // A second process opening at the same time makes no second key.
    await openSessionTokens(otherProcessDb(ctx), undefined);
    expect(await listSigningKeys(ctx.db)).toHaveLength(1);
  });

  it('VENTUS_JWT_SECRET: registered by fingerprint, retired by a rotation, deleted by the sweep, never back', async () => {
    const ctx = await context();
    const tokens = await processTokens(ctx.db, ENV_SECRET);
    const [env] = await listSigningKeys(ctx.db);
    expect(env).toMatchObject({ source: 'environment', legacy: true, secret: null, retiredAt: null });
    expect(env!.kid).toMatch(/^env-[0-9a-f]{16}$/);
    expect(env!.kid).not.toContain(ENV_SECRET.slice(0, 8));
    const kidless = await kidlessToken(ENV_SECRET, { ws: 'ws1', sub: 's1', aud: 'cdp' });
    expect((await tokens.verify(kidless, 'cdp')).sessionId).toBe('s1');
    expect(kidOf(await tokens.cdpToken('ws1', 's1', new Date()))).toBe(env!.kid);

    const { key, retired } = await rotateSigningKey(ctx.db, CLI);
    expect(retired).toEqual([env!.kid]);
    await tokens.keys.reload();
    expect(kidOf(await tokens.cdpToken('ws1', 's2', new Date()))).toBe(key.kid);
    expect((await tokens.verify(kidless, 'cdp')).sessionId).toBe('s1'); // retired, still verifying

    // Retired just now: a process may still sign with it, and its tokens may be young.
    expect(await sweep(ctx.db, tokens.keys, new Date())).toEqual([]);
    const later = new Date(Date.now() + SPENT_AFTER_MS + 1_000);
    expect(await sweep(ctx.db, tokens.keys, later)).toEqual([env!.kid]);
    await expect(tokens.verify(kidless, 'cdp')).rejects.toThrow();
    const audit = await listAuditForTarget(ctx.db, 'signing_key', env!.kid);
    expect(audit.map((a) => [a.action, a.actor, a.class])).toEqual([
      ['signing_key.configured', 'services', 'system'],
      ['signing_key.deleted', 'workers', 'system'],
    ]);
    expect((await listAuditForTarget(ctx.db, 'signing_key', key.kid))[0]).toMatchObject({
      action: 'signing_key.rotated',
      actor: 'cli',
      class: 'admin',
      detail: { retired: env!.kid },
    });

    // A restart with the same variable: the deleted key stays deleted, the generated key signs.
    const restarted = await processTokens(otherProcessDb(ctx), ENV_SECRET);
    await expect(restarted.verify(kidless, 'cdp')).rejects.toThrow();
    expect(kidOf(await restarted.cdpToken('ws1', 's3', new Date()))).toBe(key.kid);
    // A new value of the variable is a new key: it signs, and the generated one is retired.
    const changed = await processTokens(otherProcessDb(ctx), `${ENV_SECRET}-changed`);
    const newKid = kidOf(await changed.cdpToken('ws1', 's4', new Date()));
    expect(newKid).toMatch(/^env-/);
    expect(newKid).not.toBe(env!.kid);
    expect((await listSigningKeys(ctx.db)).find((k) => k.kid === key.kid)!.retiredAt).not.toBeNull();
    // A process without the variable now has no key to sign with: it refuses to start, saying why.
    await expect(openSigningKeyring(otherProcessDb(ctx), undefined)).rejects.toThrow(
      /VENTUS_JWT_SECRET this process does not have.*signing-keys rotate/,
    );
  });

  it('a retired key vouches only for sessions created before its retirement (plus the propagation window)', async () => {
    const ctx = await context();
    await upgradeFromSingleSecret(ctx.db, OLD_SECRET);
    const created = new Map<string, Date>();
    const tokens = new SessionTokens(await openSigningKeyring(ctx.db, undefined), {
      sessionCreatedAt: async (id) => created.get(id),
    });
    await rotateSigningKey(ctx.db, CLI);
    await tokens.keys.reload();
    const retiredAt = (await listSigningKeys(ctx.db)).find((k) => k.kid === 'legacy')!.retiredAt!;
    const at = (ms: number) => new Date(retiredAt.getTime() + ms);
    created.set('before', at(-3_600_000));
    created.set('propagating', at(KEY_PROPAGATION_MS - 1_000));
    created.set('after', at(KEY_PROPAGATION_MS + 1_000));
    const legacy = (sub: string, aud = 'cdp', exp?: number) =>
      kidlessToken(OLD_SECRET, { ws: 'w', sub, aud, exp });
    const withKid = (sub: string) =>
      kidlessToken(OLD_SECRET, { ws: 'w', sub, aud: 'cdp' }, { kid: 'legacy' });
    expect((await tokens.verify(await legacy('before'), 'cdp')).sessionId).toBe('before');
    expect((await tokens.verify(await withKid('propagating'), 'cdp')).sessionId).toBe('propagating');
    await expect(tokens.verify(await legacy('after'), 'cdp')).rejects.toThrow(/retired/);
    await expect(tokens.verify(await withKid('after'), 'cdp')).rejects.toThrow(/retired/);
    await expect(tokens.verify(await legacy('no-such-session'), 'cdp')).rejects.toThrow(/retired/);
    const exp = Math.floor(Date.now() / 1000) + 60;
    await expect(tokens.verify(await legacy('after', 'recording', exp), 'recording')).rejects.toThrow(
      /retired/,
    );
    await expect(tokens.verifyLiveView(await legacy('after', 'live-view', exp))).rejects.toThrow(/retired/);
    // The current key is not held to it: its tokens are for sessions of any age.
    expect((await tokens.verify(await tokens.cdpToken('w', 'after', new Date()), 'cdp')).sessionId).toBe(
      'after',
    );
  });

  it('a second process learns of a rotation on an unknown kid at once, and of a deletion within its refresh', async () => {
    const ctx = await context();
    await upgradeFromSingleSecret(ctx.db, OLD_SECRET);
    const first = await processTokens(ctx.db);
    let clock = Date.now();
    const second = await processTokens(otherProcessDb(ctx), undefined, () => clock);
    const { key } = await rotateSigningKey(ctx.db, CLI);
    await first.keys.reload();
    const fresh = await first.cdpToken('ws1', 's1', new Date());
    expect(kidOf(fresh)).toBe(key.kid);
    // Unknown kid: the second process reads the keys again before it answers.
    expect((await second.verify(fresh, 'cdp')).sessionId).toBe('s1');
    expect(kidOf(await second.liveViewToken('ws1', 's1'))).toBe(key.kid);

    const kidless = await kidlessToken(OLD_SECRET, { ws: 'ws1', sub: 's1', aud: 'cdp' });
    expect((await second.verify(kidless, 'cdp')).sessionId).toBe('s1');
    expect(await sweep(ctx.db, first.keys, new Date(Date.now() + SPENT_AFTER_MS + 1_000))).toEqual([
      'legacy',
    ]);
    await expect(first.verify(kidless, 'cdp')).rejects.toThrow();
    // Still held until its refresh is due (KEY_REFRESH_MS: what the sweep's window allows for).
    expect((await second.verify(kidless, 'cdp')).sessionId).toBe('s1');
    clock += KEY_REFRESH_MS;
    await expect(second.verify(kidless, 'cdp')).rejects.toThrow();
  });

  it('tokens naming unknown kids reload the keys once per interval, however many arrive', async () => {
    let loads = 0;
    const material = { kid: 'k1', secret: OLD_SECRET, legacy: false, createdAt: new Date(), retiredAt: null };
    const keyring = new SigningKeyring(
      async () => {
        loads++;
        return [material];
      },
      { unknownKidReloadMs: 300, refreshMs: Number.POSITIVE_INFINITY },
    );
    await keyring.reload();
    const flood = () =>
      Promise.all(Array.from({ length: 50 }, (_, i) => keyring.verificationKey(`kUNKNOWN${i}`)));
    expect(new Set(await flood())).toEqual(new Set([undefined]));
    expect(loads).toBe(2);
    await flood();
    expect(loads).toBe(3);
    // Malformed kids never reach Postgres; a known kid needs no reload.
    expect(await keyring.verificationKey('../../../../dev/null')).toBeUndefined();
    expect(await keyring.verificationKey(42)).toBeUndefined();
    expect((await keyring.verificationKey('k1'))?.kid).toBe('k1');
    expect(loads).toBe(3);
  });
});
