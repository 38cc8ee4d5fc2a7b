/** `ventus up` (the whole service in one process) and `ventus migrate`. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { Config } from '../core/config/config.ts';
import { createLogger } from '../core/logging/logger.ts';
import { closeOnSignals } from '../core/process/shutdown.ts';
import { resolveConnections } from '../stack/connections.ts';
import { cliDeps, print } from './cli-context.ts';

const VENTUS_BIN = fileURLToPath(new URL('../bin/ventus.js', import.meta.url));

/**
 * How to run the CLI from the directory the service was started in: under `npm start` that is npm's
 * INIT_CWD (npm runs the script from the package's folder, `npm --prefix` included).
 */
export function ventusCommand(cwd = process.env.INIT_CWD ?? process.cwd()): string {
  const relative = path.relative(cwd, VENTUS_BIN);
  return `node ${relative.startsWith('..') || path.isAbsolute(relative) ? VENTUS_BIN : relative}`;
}

/** What a newcomer needs next: where things are, and the two commands that make an API key. */
export function banner(publicUrl: string, port: number): string {
  const base = publicUrl.replace(/\/$/, '');
  const ventus = ventusCommand();
  return [
    `Ventus Sessions is up (listening on port ${port}).`,
    `  API        ${base}/v1/sessions`,
    `  Dashboard  ${base}/dashboard`,
    `  API docs   ${base}/docs`,
    'Make an API key (in another terminal, from the directory you started in):',
    `  ${ventus} workspaces create acme`,
    `  ${ventus} keys create --workspace acme`,
    'then drive a browser with it: README.md, "Drive a session with Playwright". Ctrl-C stops the service.',
    '',
  ].join('\n');
}

async function up(config: Config): Promise<void> {
  const log = createLogger(config.logLevel, { service: 'ventus' });
  const conns = await resolveConnections(config, log);
  let stack;
  try {
    // Loaded only here: the whole service is a large import graph the other commands do not need.
    const { startStack } = await import('../stack/stack.ts');
    stack = await startStack(config, conns, log);
  } catch (err) {
    // A failed start (a port in use, say) leaves nothing running: no orphaned embedded Postgres.
    await conns.stop();
    throw err;
  }
  const running = stack;
  closeOnSignals(
    log,
    () => running.close(),
    () => conns.stop(),
  );
  process.stderr.write(banner(config.publicUrl, running.port));
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('run the whole service: broker, CDP proxy, workers and pool controller in one process')
    .addHelpText(
      'after',
      `
With DATABASE_URL unset it runs an embedded Postgres (data kept between runs); with REDIS_URL unset
it uses the Redis on 127.0.0.1:6379, or starts redis-server. Configuration: README.md, "Configuration".

Examples:
  ventus up
  PORT=8081 VENTUS_POOL_MIN_READY=0 ventus up
  VENTUS_EGRESS_ALLOW=127.0.0.1:3000 ventus up     # let pages open a local dev server`,
    )
    .action(() => up(cliDeps.readConfig()));
  program
    .command('migrate')
    .description('apply the database migrations (ventus up does it on start)')
    .option('--json', 'print {"migrated": true}')
    .addHelpText('after', '\nExample:\n  DATABASE_URL=postgres://ventus@db/ventus ventus migrate')
    .action(async (opts: { json?: boolean }) => {
      await cliDeps.withDatabase(cliDeps.readConfig(), async () => {});
      print(opts.json, { migrated: true }, 'database is up to date');
    });
}
