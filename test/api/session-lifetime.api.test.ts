/**
 * An operator's maximum session lifetime: `:keepalive` cannot move expires_at past created_at + the
 * limit (QUEUED sessions included), repeated keep-alives stop at the ceiling with a 409 naming it,
 * the start clock never runs past it, and with no limit set (the default) keep-alives are unbounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { limitDefaults, updateWorkspaceLimits } from '../../core/db/workspace-settings.repository.ts';
import { transitionSession } from '../../core/db/session-transitions.repository.ts';

const LIMIT = 3600;

describe('maximum session lifetime', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let bounded: ApiClient;
  let unbounded: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 20 });
    server = await ctx.startApi();
    const a = await ctx.seedKey();
    await updateWorkspaceLimits(
      ctx.db,
      a.workspaceId,
      { max_session_lifetime_seconds: LIMIT },
      limitDefaults(ctx.config),
    );
    bounded = new ApiClient(server.url, a.apiKey);
    unbounded = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  const keepalive = (api: ApiClient, id: string, extend_seconds: number) =>
    api.request('POST', `/v1/sessions/${id}:keepalive`, { body: { extend_seconds } });

  it('repeated keep-alives of a QUEUED session stop at the ceiling, with a 409 naming the limit', async () => {
    const created = await bounded.createSession({ timeout_seconds: 600 });
    expect(created.status).toBe(202);
    const ceiling = Date.parse(created.body.created_at) + LIMIT * 1000;
    const statuses: number[] = [];
    let refusal: Record<string, unknown> | undefined;
    for (let i = 0; i < 30; i++) {
      const res = await keepalive(bounded, created.body.id, 600);
      statuses.push(res.status);
      if (res.status !== 200) refusal ??= res.body;
    }
    // 600 s + 5 x 600 s reaches exactly created_at + 3600; every later one is refused.
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5).every((s) => s === 409)).toBe(true);
    expect(String(refusal!.type)).toMatch(/\/session-lifetime-exceeded$/);
    expect(refusal!.detail).toContain(`${LIMIT} s`);
    expect(refusal!.limit_seconds).toBe(LIMIT);
    const now = await bounded.getSession(created.body.id);
    expect(Date.parse(now.body.expires_at)).toBeLessThanOrEqual(ceiling);
    expect(now.body.status).toBe('QUEUED');
  });

  it('a keep-alive that would pass the ceiling changes nothing; a smaller one that fits is accepted', async () => {
    const created = await bounded.createSession({ timeout_seconds: 3000 });
    const before = (await bounded.getSession(created.body.id)).body.expires_at;
    const refused = await keepalive(bounded, created.body.id, 900);
    expect(refused.status).toBe(409);
    expect(refused.body.remaining_seconds).toBeLessThanOrEqual(600);
    expect((await bounded.getSession(created.body.id)).body.expires_at).toBe(before);
    expect((await keepalive(bounded, created.body.id, 500)).status).toBe(200);
  });

  it('create refuses a timeout_seconds above the limit (422); the start clock never runs past it', async () => {
    const tooLong = await bounded.createSession({ timeout_seconds: LIMIT + 1 });
    expect(tooLong.status).toBe(422);
    expect(String(tooLong.body.detail)).toContain(`${LIMIT} s`);
    const created = await bounded.createSession({ timeout_seconds: LIMIT });
    // The provision job's first transition starts the clock a moment after creation.
    await new Promise((r) => setTimeout(r, 1100));
    const started = await transitionSession(ctx.db, {
      id: created.body.id,
      from: ['QUEUED'],
      to: 'PROVISIONING',
      actor: 'test',
      startClock: true,
    });
    expect(started!.expiresAt.getTime()).toBe(started!.createdAt.getTime() + LIMIT * 1000);
  });

  it('with no limit set (the default), keep-alives roll the expiry forward without a ceiling', async () => {
    const created = await unbounded.createSession({ timeout_seconds: 600 });
    for (let i = 0; i < 30; i++)
      expect((await keepalive(unbounded, created.body.id, 86_400)).status).toBe(200);
    const now = await unbounded.getSession(created.body.id);
    expect(Date.parse(now.body.expires_at)).toBeGreaterThan(
      Date.parse(created.body.created_at) + 30 * 86_400_000,
    );
  });
});
