import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { TestContext } from '../support/test-context.ts';
import { authenticateApiKey } from '../../core/db/workspaces.repository.ts';

const run = promisify(execFile);
const VENTUS = fileURLToPath(new URL('../../bin/ventus.js', import.meta.url));

describe('the ventus CLI', () => {
  let ctx: TestContext;
  let env: NodeJS.ProcessEnv;

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

  it('migrate, workspaces create --json, keys create --json: one JSON document on stdout; the key works', async () => {
    const migrated = await run('node', [VENTUS, 'migrate', '--json'], { env });
    expect(JSON.parse(migrated.stdout)).toEqual({ migrated: true });
    const ws = JSON.parse(
      (await run('node', [VENTUS, 'workspaces', 'create', 'acme', '--json'], { env })).stdout,
    ) as {
      id: string;
      name: string;
    };
    expect(ws).toMatchObject({ name: 'acme' });
    const key = JSON.parse(
      (
        await run(
          'node',
          [VENTUS, 'keys', 'create', '--workspace', 'acme', '--scopes', 'sessions:read', '--json'],
          { env },
        )
      ).stdout,
    ) as { api_key: string; workspace_id: string };
    expect(key.api_key).toMatch(/^vs_[0-9A-HJKMNP-TV-Z]{26}\.[A-Za-z0-9]{32}$/);
    expect(key.workspace_id).toBe(ws.id);
    expect(await authenticateApiKey(ctx.db, key.api_key)).toEqual({
      keyId: key.api_key.slice(3, 29),
      workspaceId: ws.id,
      scopes: ['sessions:read'],
    });
    const { rows } = await ctx.db.query<{ secret_hash: Buffer }>('SELECT secret_hash FROM api_keys');
    expect(rows[0]!.secret_hash.toString('utf8')).not.toContain(key.api_key.slice(30));
  });

  it('refuses bad configuration with one clear line per value', async () => {
    const failed = await run('node', [VENTUS, 'migrate'], {
      env: { ...env, PORT: 'eighty', VENTUS_DRIVER: 'docker', DATABASE_URL: 'mysql://x:secretpw@h/db' },
    }).catch((err: { code: number; stderr: string }) => err);
    expect('code' in failed && failed.code).toBe(2);
    const stderr = (failed as { stderr: string }).stderr;
    expect(stderr).toContain('PORT="eighty"');
    expect(stderr).toContain('VENTUS_DRIVER="docker"');
    expect(stderr).toContain('DATABASE_URL: expected a URL starting with postgres:// or postgresql://');
    expect(stderr).not.toContain('secretpw');
  });

  it('refuses an unknown scope and an unknown workspace', async () => {
    const scope = await run('node', [VENTUS, 'keys', 'create', '--workspace', 'acme', '--scopes', 'root'], {
      env,
    }).catch((err: { code: number; stderr: string }) => err);
    expect((scope as { stderr: string }).stderr).toContain('unknown scope(s): root');
    const ws = await run('node', [VENTUS, 'keys', 'create', '--workspace', 'nobody'], { env }).catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect((ws as { stderr: string }).stderr).toContain('no workspace nobody');
  });
});

describe('ventus load --scenario timers|concurrent: flags', () => {
  // Refused before any request is sent: the target need not answer.
  const base = ['load', '--target', 'http://127.0.0.1:9', '--api-key', 'vs_x'];
  const cases: Array<[string[], string]> = [
    [['--scenario', 'timers'], 'missing --pending'],
    [['--scenario', 'timers', '--pending', 'many'], '--pending="many"'],
    [['--scenario', 'timers', '--pending', '2.5'], 'expected a whole number'],
    [['--scenario', 'timers', '--pending', '10', '--first-due', '10s'], '--first-due="10s"'],
    [['--scenario', 'timers', '--pending', '10', '--window', '2m', '--horizon', '1m'], '--horizon must be'],
    [['--scenario', 'timers', '--pending', '10', '--horizon', '24h'], '--first-due + --horizon'],
    [['--scenario', 'concurrent'], 'missing --sessions'],
    [['--scenario', 'concurrent', '--sessions', '0'], '--sessions="0"'],
    [['--scenario', 'concurrent', '--sessions', '10', '--rate', '0'], '--rate="0"'],
  ];

  it('refuses bad values with exit 2 and one clear line', async () => {
    for (const [args, message] of cases) {
      const failed = await run('node', [VENTUS, ...base, ...args]).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );
      expect(failed.code, args.join(' ')).toBe(2);
      expect(failed.stderr).toContain(message);
    }
  }, 60_000);

  it('lists both scenarios in the usage text', async () => {
    const { stdout } = await run('node', [VENTUS, 'load', '--help']);
    expect(stdout).toContain('--scenario timers --pending N');
    expect(stdout).toContain('--scenario concurrent --sessions N');
    expect(stdout).toContain('--metrics-token TOKEN');
  });
});
