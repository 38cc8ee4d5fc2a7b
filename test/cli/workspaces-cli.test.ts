/** `ventus workspaces set|show|list`: an operator's limits and settings from the command line, audited. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { TestContext } from '../support/test-context.ts';

const run = promisify(execFile);
const VENTUS = fileURLToPath(new URL('../../bin/ventus.js', import.meta.url));

interface WorkspaceJson {
  id: string;
  name: string;
  recording_retention_days: number;
  limits: Record<string, number | null>;
}

describe('ventus workspaces', () => {
  let ctx: TestContext;
  let env: NodeJS.ProcessEnv;
  const ventus = async (...args: string[]) =>
    (await run('node', [VENTUS, 'workspaces', ...args], { env })).stdout;

  beforeAll(async () => {
    ctx = await TestContext.create();
    env = {
      ...process.env,
      DATABASE_URL: ctx.databaseUrl,
      REDIS_URL: ctx.redisUrl,
      VENTUS_LOG_LEVEL: 'warn',
    };
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('set changes limits and retention (audited as cli), show and list read them back', async () => {
    const ws = JSON.parse(await ventus('create', 'tenant-a', '--json')) as WorkspaceJson;
    const set = JSON.parse(
      await ventus(
        'set',
        'tenant-a',
        '--live-sessions',
        '7',
        '--max-session-lifetime-seconds',
        '7200',
        '--cdp-sockets-per-session',
        '3',
        '--recording-retention-days',
        '365',
        '--json',
      ),
    ) as WorkspaceJson;
    expect(set).toMatchObject({
      id: ws.id,
      recording_retention_days: 365,
      limits: { live_sessions: 7, max_session_lifetime_seconds: 7200, cdp_sockets_per_session: 3 },
    });
    const reset = JSON.parse(
      await ventus('set', ws.id, '--max-session-lifetime-seconds', 'none', '--json'),
    ) as WorkspaceJson;
    expect(reset.limits.max_session_lifetime_seconds).toBeNull();
    expect(reset.limits.live_sessions).toBe(7);
    const shown = JSON.parse(await ventus('show', 'tenant-a', '--json')) as WorkspaceJson;
    expect(shown).toEqual(reset);
    const listed = await ventus('list');
    expect(listed).toMatch(/tenant-a\s+\S+\s+365\s+7\s+none\s/);
    const { rows } = await ctx.db.query<{ actor: string; action: string }>(
      `SELECT actor, action FROM audit_log WHERE target_type = 'workspace' AND target_id = $1 ORDER BY id`,
      [ws.id],
    );
    expect(rows).toEqual([
      { actor: 'cli', action: 'workspace.limits.update' },
      { actor: 'cli', action: 'workspace.settings.update' },
      { actor: 'cli', action: 'workspace.limits.update' },
    ]);
  });

  it('refuses bad values and unknown workspaces with exit code 2 and a reason', async () => {
    for (const args of [
      ['set', 'tenant-a', '--live-sessions', '-3'],
      ['set', 'tenant-a', '--recording-retention-days', '4000'],
      ['set', 'tenant-a'],
      ['set', 'nobody', '--profiles', '3'],
    ]) {
      const err = (await ventus(...args).catch((e: unknown) => e)) as { code: number; stderr: string };
      expect(err.code, args.join(' ')).toBe(2);
      expect(err.stderr.length).toBeGreaterThan(0);
    }
  });
});
