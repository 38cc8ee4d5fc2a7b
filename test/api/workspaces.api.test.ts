/**
 * Workspace limits are set by operators (and only by them), settings by the workspace's owners; every
 * change is audited and takes effect at once (a lowered quota refuses the next create).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { ADMIN_SCOPES, workspaceHelpers } from '../support/workspace-fixtures.ts';
import { DEFAULT_WORKSPACE_LIMITS } from '../../core/domain/workspace-limits.ts';

interface WorkspaceBody {
  id: string;
  name: string;
  recording_retention_days: number;
  limits: Record<string, number | null>;
}

describe('workspace settings and limits', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let operator: ApiClient;
  const { workspace, audit } = workspaceHelpers(() => ({ ctx, server }));

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 20 });
    server = await ctx.startApi();
    operator = new ApiClient(server.url, (await ctx.seedKey(['operator'])).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('a sessions:read key reads its own workspace with the default limits; only an operator sets them', async () => {
    const owner = await workspace();
    const user = await workspace(['sessions:read']);
    const mine = await user.api.request<WorkspaceBody>('GET', '/v1/workspace');
    expect(mine.status).toBe(200);
    expect(mine.body.recording_retention_days).toBe(30);
    expect(mine.body.limits).toEqual({
      live_sessions: ctx.config.workspaceLiveSessions,
      max_session_lifetime_seconds: null,
      profiles: DEFAULT_WORKSPACE_LIMITS.profiles,
      versions_per_profile: DEFAULT_WORKSPACE_LIMITS.versionsPerProfile,
      stored_bytes: DEFAULT_WORKSPACE_LIMITS.storedBytes,
      cdp_sockets_per_session: DEFAULT_WORKSPACE_LIMITS.cdpSocketsPerSession,
      viewers_per_session: DEFAULT_WORKSPACE_LIMITS.viewersPerSession,
    });
    // A workspace admin cannot raise its own limits, nor read another workspace's.
    const self = await owner.api.request('PATCH', `/v1/workspaces/${owner.workspaceId}/limits`, {
      body: { live_sessions: 10_000 },
    });
    expect(self.status).toBe(403);
    expect((await owner.api.request('GET', '/v1/workspaces')).status).toBe(403);

    const set = await operator.request<WorkspaceBody>('PATCH', `/v1/workspaces/${owner.workspaceId}/limits`, {
      body: { live_sessions: 1, max_session_lifetime_seconds: 7200, viewers_per_session: 2 },
    });
    expect(set.status).toBe(200);
    expect(set.body.limits).toMatchObject({
      live_sessions: 1,
      max_session_lifetime_seconds: 7200,
      viewers_per_session: 2,
    });
    const listed = await operator.request<{ data: WorkspaceBody[] }>('GET', '/v1/workspaces');
    expect(listed.body.data.find((w) => w.id === owner.workspaceId)!.limits.live_sessions).toBe(1);

    // In force at once: the second live session is refused.
    expect((await owner.api.createSession()).status).toBe(202);
    expect((await owner.api.createSession()).status).toBe(429);

    // null restores the default.
    const reset = await operator.request<WorkspaceBody>(
      'PATCH',
      `/v1/workspaces/${owner.workspaceId}/limits`,
      {
        body: { max_session_lifetime_seconds: null },
      },
    );
    expect(reset.body.limits.max_session_lifetime_seconds).toBeNull();
    expect(reset.body.limits.live_sessions).toBe(1);
  });

  it('refuses out-of-range limits (400) and unknown workspaces (404)', async () => {
    const { workspaceId } = await workspace();
    for (const body of [{ live_sessions: -1 }, { max_session_lifetime_seconds: 10 }, {}, { bogus: 1 }]) {
      const res = await operator.request('PATCH', `/v1/workspaces/${workspaceId}/limits`, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const missing = await operator.request('PATCH', '/v1/workspaces/01JC1AMQX4N3PWV9MR2BCKDH7E/limits', {
      body: { profiles: 3 },
    });
    expect(missing.status).toBe(404);
  });

  it("the workspace's owners set recording_retention_days (1-3650), audited with the previous value", async () => {
    const owner = await workspace(ADMIN_SCOPES);
    const user = await workspace(['sessions:read', 'sessions:write']);
    expect(
      (await user.api.request('PATCH', '/v1/workspace', { body: { recording_retention_days: 90 } })).status,
    ).toBe(403);
    for (const days of [0, 3651]) {
      const res = await owner.api.request('PATCH', '/v1/workspace', {
        body: { recording_retention_days: days },
      });
      expect(res.status).toBe(400);
    }
    const set = await owner.api.request<WorkspaceBody>('PATCH', '/v1/workspace', {
      body: { recording_retention_days: 3650 },
    });
    expect(set.status).toBe(200);
    expect(set.body.recording_retention_days).toBe(3650);
    expect(
      (await owner.api.request<WorkspaceBody>('GET', '/v1/workspace')).body.recording_retention_days,
    ).toBe(3650);
    const rows = (await audit(owner.api, `?target=workspace:${owner.workspaceId}`)).items;
    expect(rows.map((r) => [r.action, r.detail])).toContainEqual([
      'workspace.settings.update',
      { recording_retention_days: 3650, previous_recording_retention_days: 30 },
    ]);
  });

  it('operator limit changes are audited as admin actions', async () => {
    const owner = await workspace(ADMIN_SCOPES);
    await operator.request('PATCH', `/v1/workspaces/${owner.workspaceId}/limits`, { body: { profiles: 3 } });
    const { rows } = await ctx.db.query<{ class: string; action: string; detail: unknown }>(
      `SELECT class, action, detail FROM audit_log WHERE target_type = 'workspace' AND target_id = $1`,
      [owner.workspaceId],
    );
    expect(rows).toContainEqual({
      class: 'admin',
      action: 'workspace.limits.update',
      detail: { profiles: 3 },
    });
  });
});
