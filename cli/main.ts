/**
 * The `ventus` command: up, migrate, workspaces create, keys create, pools list|set|advise, load.
 * `--json` output is one JSON document on stdout; logs go to stderr.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../core/config/config.ts';
import { createLogger } from '../core/logging/logger.ts';
import { createDatabase } from '../core/db/database.ts';
import { prepareDatabase } from '../core/db/bootstrap.ts';
import { createApiKey, createWorkspace, findWorkspace } from '../core/db/workspaces.repository.ts';
import { DEFAULT_SCOPES, SCOPES, isScope, type Scope } from '../core/domain/scopes.ts';
import { resolveConnections } from './connections.ts';
import { closeOnSignals } from '../core/process/shutdown.ts';
import { POOLS_USAGE, poolsCommand } from './pools.command.ts';
import { LOAD_USAGE, loadCommand } from './load.command.ts';

const USAGE = `usage:
  ventus up                                   run the whole service (broker, proxy, workers, pool controller)
  ventus migrate                              apply database migrations
  ventus workspaces create <name> [--json]
  ventus keys create --workspace <name-or-id> [--scopes a,b] [--name label] [--json]
${POOLS_USAGE}
${LOAD_USAGE}`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

async function withDatabase<T>(
  config: Config,
  fn: (db: ReturnType<typeof createDatabase>) => Promise<T>,
): Promise<T> {
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, {}).child({
    component: 'cli',
  });
  const conns = await resolveConnections(config, log, { redis: false });
  const db = createDatabase(conns.databaseUrl, { max: 2 });
  try {
    await prepareDatabase(db, config);
    return await fn(db);
  } finally {
    await db.end();
    await conns.stop();
  }
}

function print(json: boolean, value: Record<string, unknown>, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

async function up(config: Config): Promise<void> {
  const log = createLogger(config.logLevel, { service: 'ventus' });
  const conns = await resolveConnections(config, log);
  // Loaded only here: the whole service is a large import graph the other commands do not need.
  const { startStack } = await import('./stack.ts');
  const stack = await startStack(config, conns, log);
  closeOnSignals(
    log,
    () => stack.close(),
    () => conns.stop(),
  );
  process.stderr.write(`Ventus Sessions is up on ${config.publicUrl} (listening on port ${stack.port})\n`);
}

async function main(argv: string[]): Promise<void> {
  // `pools` has flags of its own.
  if (argv[0] === 'pools') return poolsCommand(argv.slice(1), { readConfig, withDatabase, fail });
  // `load` talks to a deployment over HTTP only: no configuration of its own.
  if (argv[0] === 'load') return loadCommand(argv.slice(1), { fail });
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      workspace: { type: 'string' },
      scopes: { type: 'string' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, sub, arg] = positionals;
  if (values.help || !command) return void process.stdout.write(`${USAGE}\n`);
  const config = readConfig();
  switch (`${command} ${sub ?? ''}`.trim()) {
    case 'up':
      return up(config);
    case 'migrate':
      await withDatabase(config, async () => {});
      return print(values.json, { migrated: true }, 'database is up to date');
    case 'workspaces create': {
      if (!arg) fail('usage: ventus workspaces create <name> [--json]');
      const ws = await withDatabase(config, async (db) => {
        if (await findWorkspace(db, arg)) fail(`workspace ${arg} already exists`);
        return createWorkspace(db, arg);
      });
      return print(
        values.json,
        { id: ws.id, name: ws.name, created_at: ws.createdAt.toISOString() },
        `workspace ${ws.name} ${ws.id}`,
      );
    }
    case 'keys create': {
      if (!values.workspace)
        fail('usage: ventus keys create --workspace <name-or-id> [--scopes a,b] [--json]');
      const scopes: string[] = values.scopes
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean) ?? [...DEFAULT_SCOPES];
      const bad = scopes.filter((s) => !isScope(s));
      if (bad.length > 0) fail(`unknown scope(s): ${bad.join(', ')} (known: ${SCOPES.join(', ')})`);
      const workspaceRef = values.workspace;
      const key = await withDatabase(config, async (db) => {
        const ws = await findWorkspace(db, workspaceRef);
        if (!ws) fail(`no workspace ${workspaceRef}`);
        return { ...(await createApiKey(db, ws.id, scopes as Scope[], values.name)), workspaceId: ws.id };
      });
      return print(
        values.json,
        { api_key: key.apiKey, key_id: key.keyId, workspace_id: key.workspaceId, scopes },
        key.apiKey,
      );
    }
    default:
      fail(USAGE);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  createLogger('error').error({ err }, 'ventus failed');
  process.exit(1);
});
