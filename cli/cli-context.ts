/**
 * What every `ventus` command shares: the configuration, a database for the length of a command
 * (the embedded one when DATABASE_URL is unset), and one-line failures (exit 2).
 */
import { ConfigError, loadConfig, type Config } from '../core/config/config.ts';
import { createLogger } from '../core/logging/logger.ts';
import { createDatabase, type Database } from '../core/db/database.ts';
import { prepareDatabase } from '../core/db/bootstrap.ts';
import { resolveConnections } from '../stack/connections.ts';

export interface CliDeps {
  readConfig: () => Config;
  withDatabase: <T>(config: Config, fn: (db: Database) => Promise<T>) => Promise<T>;
  /** Throws a UsageError: main prints the message and exits 2, after `finally` blocks have run. */
  fail: (message: string) => never;
}

/** A mistake of the caller's, told in one line that says what to do: exit 2, no stack. */
export class UsageError extends Error {}

export function fail(message: string): never {
  // Thrown, not process.exit: whatever the command started (an embedded Postgres) is stopped first.
  throw new UsageError(message);
}

export function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

export async function withDatabase<T>(config: Config, fn: (db: Database) => Promise<T>): Promise<T> {
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

export const cliDeps: CliDeps = { readConfig, withDatabase, fail };

/** `--json`: one JSON document on stdout; otherwise the text. */
export function print(json: boolean | undefined, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}
