/**
 * A deleted profile's versions are purged after the grace period, by the scheduled profile-purge job:
 * not a moment before (the clock double), never while a live session pins the profile, audited, and
 * afterwards none of its values is anywhere in the database.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { eventually } from '../support/eventually.ts';
import { ALL, state, type ProfileBody } from '../support/profile-fixtures.ts';
import { purgeDeletedProfiles } from '../../core/profiles/profile-purge.ts';
import type { Stack } from '../../stack/stack.ts';

const GRACE_MS = 3_600_000;
const EVERY_MS = 300;

describe('profile purge', () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({
      maxTotal: 3,
      env: {
        VENTUS_DRIVER: 'sim',
        VENTUS_PROFILE_PURGE_GRACE_MS: String(GRACE_MS),
        VENTUS_PROFILE_PURGE_EVERY_MS: String(EVERY_MS),
      },
    });
    stack = await ctx.startStack();
    api = new ApiClient(stack.url, (await ctx.seedKey(ALL)).apiKey);
  });
  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
  });

  const purge = (now: Date) => purgeDeletedProfiles({ db: ctx.db, graceMs: GRACE_MS }, now);
  const secret = () => randomBytes(8).toString('hex');
  const rowsHolding = async (value: string) => {
    const { rows } = await ctx.db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM profiles t WHERE t::text LIKE $1)
            + (SELECT count(*) FROM profile_versions t WHERE t::text LIKE $1)::int AS n`,
      [`%${value}%`],
    );
    return Number(rows[0]!.n);
  };
  async function profileWithVersions(name: string, versions: number): Promise<ProfileBody> {
    const profile = (
      await api.request<ProfileBody>('POST', '/v1/profiles', {
        body: { name, storage_state: state(secret()) },
      })
    ).body;
    for (let v = 2; v <= versions; v++)
      await api.request('POST', `/v1/profiles/${profile.id}/versions`, {
        body: { storage_state: state(secret()) },
      });
    return profile;
  }

  it('keeps the versions through the grace period and purges them after it, audited', async () => {
    const profile = await profileWithVersions(`p-${secret()}`, 3);
    expect((await api.request('DELETE', `/v1/profiles/${profile.id}`)).status).toBe(204);
    const deletedAt = Date.now();
    expect(await purge(new Date(deletedAt + GRACE_MS - 60_000))).toEqual([]);
    const kept = await ctx.db.query('SELECT 1 FROM profile_versions WHERE profile_id = $1', [profile.id]);
    expect(kept.rowCount).toBe(3);
    const purged = await purge(new Date(deletedAt + GRACE_MS + 60_000));
    expect(purged).toContainEqual(expect.objectContaining({ profileId: profile.id, versions: 3 }));
    expect(await rowsHolding(profile.id)).toBe(0);
    const { rows } = await ctx.db.query<{ class: string; detail: { versions: number } }>(
      `SELECT class, detail FROM audit_log WHERE action = 'profile.purged' AND target_id = $1`,
      [profile.id],
    );
    expect(rows.map((r) => [r.class, r.detail.versions])).toEqual([['system', 3]]);
  });

  it('waits while a live session pins the profile', async () => {
    const profile = await profileWithVersions(`pinned-${secret()}`, 1);
    const session = await api.createSession({ profile_id: profile.id });
    expect(session.status).toBe(202);
    await api.request('DELETE', `/v1/profiles/${profile.id}`);
    const later = new Date(Date.now() + GRACE_MS + 60_000);
    expect((await purge(later)).map((p) => p.profileId)).not.toContain(profile.id);
    await api.release(session.body.id);
    expect((await purge(later)).map((p) => p.profileId)).toContain(profile.id);
  });

  it('the scheduled job purges a profile deleted longer ago than the grace; its values are gone', async () => {
    const value = secret();
    const profile = (
      await api.request<ProfileBody>('POST', '/v1/profiles', {
        body: { name: `job-${value}`, storage_state: state(value) },
      })
    ).body;
    await api.request('DELETE', `/v1/profiles/${profile.id}`);
    const maintenance = new Queue('maintenance', {
      connection: stack.services.redis,
      prefix: stack.services.queuePrefix,
    });
    try {
      await eventually(
        'the profile purge is scheduled',
        async () =>
          (await maintenance.getJobSchedulers()).find((s) => s.key === 'profile-purge')?.every === EVERY_MS,
        { timeoutMs: 30_000, everyMs: 200 },
      );
    } finally {
      await maintenance.close();
    }
    // Deleted two hours ago, as far as the job can tell.
    await ctx.db.query(`UPDATE profiles SET deleted_at = now() - interval '2 hours' WHERE id = $1`, [
      profile.id,
    ]);
    await eventually('the job purged the profile', async () => (await rowsHolding(profile.id)) === 0, {
      timeoutMs: 30_000,
      everyMs: 200,
    });
    expect(await rowsHolding(value)).toBe(0);
  });
});
