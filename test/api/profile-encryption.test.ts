/**
 * Profile storage_state at rest (real Postgres): sealed with AES-256-GCM under the current key,
 * readable after a rotation, plaintext rows from before encryption sealed in place; key config parsing;
 * the sim driver counts a restored storage_state.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ConfigError, loadConfig, type ProfileKey } from '../../core/config/config.ts';
import {
  getProfileVersion,
  insertProfile,
  sealPlaintextVersions,
} from '../../core/db/profiles.repository.ts';
import { createWorkspace } from '../../core/db/workspaces.repository.ts';
import { newId } from '../../core/domain/ids.ts';
import { ProfileCipher } from '../../core/security/profile-cipher.ts';
import { state } from '../support/profile-fixtures.ts';
import { simHarness, type SimHarness } from '../runtime/sim.harness.ts';
import { podId } from '../runtime/driver.conformance.ts';

const key = (kid: string): ProfileKey => ({ kid, key: randomBytes(32) });

describe('profile storage_state encryption at rest', () => {
  let ctx: TestContext;
  let workspaceId: string;

  beforeAll(async () => {
    ctx = await TestContext.create();
    workspaceId = (await createWorkspace(ctx.db, `ws-${Date.now()}`)).id;
  });
  afterAll(async () => {
    await ctx?.close();
  });

  async function storedText(profileId: string): Promise<string> {
    const { rows } = await ctx.db.query<{ s: string }>(
      'SELECT storage_state::text AS s FROM profile_versions WHERE profile_id = $1',
      [profileId],
    );
    return rows[0]!.s;
  }

  it('seals with the current key id; a rotation keeps old versions readable; an unknown kid fails', async () => {
    const k1 = key('k1');
    const k2 = key('k2');
    const id = newId();
    await insertProfile(ctx.db, new ProfileCipher(k1), {
      id,
      workspaceId,
      name: `enc-${id}`,
      storageState: state('rotate'),
      createdBy: 'test',
    });
    const stored = await storedText(id);
    expect(stored).not.toContain('cookie-rotate');
    expect(JSON.parse(stored)).toMatchObject({ alg: 'A256GCM', kid: 'k1' });

    const rotated = new ProfileCipher(k2, [k1]);
    const v1 = await getProfileVersion(ctx.db, rotated, workspaceId, id, 1);
    expect(v1?.storageState).toEqual(state('rotate'));
    await expect(getProfileVersion(ctx.db, new ProfileCipher(k2), workspaceId, id, 1)).rejects.toThrow(
      /key id "k1"/,
    );
  });

  it('a sealed value does not open under another row (AAD binds profile and version)', () => {
    const cipher = new ProfileCipher(key('k1'));
    const sealed = cipher.seal(state('x'), 'A', 1);
    expect(() => cipher.open(sealed, 'A', 2)).toThrow();
    expect(cipher.open(sealed, 'A', 1)).toEqual(state('x'));
  });

  it('plaintext versions written before encryption are sealed in place and stay readable', async () => {
    const id = newId();
    await ctx.db.query(
      `INSERT INTO profiles (id, workspace_id, name, latest_version) VALUES ($1, $2, $3, 1)`,
      [id, workspaceId, `legacy-${id}`],
    );
    await ctx.db.query(
      `INSERT INTO profile_versions (profile_id, version, storage_state) VALUES ($1, 1, $2)`,
      [id, JSON.stringify(state('legacy'))],
    );
    const cipher = new ProfileCipher(key('k3'));
    expect((await getProfileVersion(ctx.db, cipher, workspaceId, id, 1))?.storageState).toEqual(
      state('legacy'),
    );
    expect(await sealPlaintextVersions(ctx.db, cipher)).toBeGreaterThanOrEqual(1);
    expect(await storedText(id)).not.toContain('cookie-legacy');
    expect((await getProfileVersion(ctx.db, cipher, workspaceId, id, 1))?.storageState).toEqual(
      state('legacy'),
    );
    // Still immutable otherwise: a sealed version cannot be rewritten.
    await expect(
      ctx.db.query(`UPDATE profile_versions SET storage_state = '{}'::jsonb WHERE profile_id = $1`, [id]),
    ).rejects.toThrow(/append-only/);
  });

  it('VENTUS_PROFILE_KEYS: first key current, one clear line per bad entry, never the key', () => {
    const good = randomBytes(32).toString('base64');
    const config = loadConfig({
      VENTUS_PROFILE_KEYS: `new:${good}, old:${randomBytes(32).toString('base64')}`,
    });
    expect(config.profileKeys?.map((k) => k.kid)).toEqual(['new', 'old']);
    expect(loadConfig({}).profileKeys).toBeUndefined();
    let error: ConfigError | undefined;
    try {
      loadConfig({ VENTUS_PROFILE_KEYS: `a:${good},b:c2hvcnQ=,a:${good},no-colon` });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error?.problems).toEqual([
      'VENTUS_PROFILE_KEYS entry 2: expected kid:base64key (kid 1-32 of A-Z a-z 0-9 . _ -; a 32-byte key)',
      'VENTUS_PROFILE_KEYS entry 3: kid "a" appears twice',
      'VENTUS_PROFILE_KEYS entry 4: expected kid:base64key (kid 1-32 of A-Z a-z 0-9 . _ -; a 32-byte key)',
    ]);
    expect(error?.message).not.toContain(good);
  });
});

describe('sim driver: storage_state', { timeout: 60_000 }, () => {
  let h: SimHarness;
  beforeAll(async () => {
    h = await simHarness(50);
  }, 60_000);
  afterAll(async () => {
    await h?.cleanup();
  });

  it('counts a restored storage_state and reports it back from GET /storage-state', async () => {
    const pod = await h.driver.createPod({ id: podId('ss'), pool: 'sim', headless: true });
    try {
      expect(await h.driver.configureSession(pod, { viewport: { width: 800, height: 600 } })).toBeUndefined();
      const restored = await h.driver.configureSession(pod, { storageState: state('sim') });
      expect(restored).toEqual({
        cookies: 1,
        origins: [{ origin: 'https://example.com', localStorageItems: 1 }],
      });
      const captured = (await (await fetch(`${pod.controlUrl}/storage-state`)).json()) as unknown;
      expect(captured).toEqual(state('sim'));
    } finally {
      await h.driver.deletePod(pod.id);
    }
  });
});
