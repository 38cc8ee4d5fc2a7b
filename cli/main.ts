/**
 * The `ventus` command. Each command group lives in its own file and is registered here in one
 * line. `--json` output is one JSON document on stdout; logs and errors go to stderr. A mistake is
 * answered in one line that says what to do (exit 2); a failure the CLI can explain (a missing
 * database, a port in use) likewise (exit 1).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { loadConfig } from '../core/config/config.ts';
import { createLogger } from '../core/logging/logger.ts';
import { cliDeps, UsageError } from './cli-context.ts';
import { explain } from './cli-errors.ts';
import { registerPassthrough } from './passthrough.ts';
import { registerUp } from './up.command.ts';
import { registerWorkspaces } from './workspaces.command.ts';
import { registerKeys } from './keys.command.ts';
import { registerSessions } from './sessions.command.ts';
import { POOLS_USAGE, poolsCommand } from './pools.command.ts';
import { LOAD_USAGE, loadCommand } from './load.command.ts';
import { SIGNING_KEYS_USAGE, signingKeysCommand } from './signing-keys.command.ts';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** `ventus keys create --workspce x` → "ventus keys create": the command whose help to read. */
function commandPath(program: Command, argv: string[]): string {
  const words = ['ventus'];
  let command = program;
  for (const a of argv) {
    const sub = command.commands.find((c) => c.name() === a);
    if (!sub) break;
    words.push(a);
    command = sub;
  }
  return words.join(' ');
}

function buildProgram(argv: string[]): Command {
  const program = new Command('ventus')
    .description('Ventus Sessions: disposable Chrome sessions behind one REST API')
    .version(version, '-v, --version', 'print the version')
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      // Commander's errors ("error: unknown option '--workspce'\n(Did you mean --workspace?)") on one line.
      outputError: (text, write) =>
        write(`${text.trim().replace(/\s*\n\s*/g, ' ')} (see ${commandPath(program, argv)} --help)\n`),
    })
    .addHelpText(
      'after',
      `
Examples:
  ventus up                                      run the service (npm start does)
  ventus workspaces create acme && ventus keys create --workspace acme
  ventus sessions create --wait                  with VENTUS_API_KEY set
  ventus <command> --help                        a command's options and examples`,
    );
  registerUp(program);
  registerWorkspaces(program);
  registerKeys(program);
  registerSessions(program);
  registerPassthrough(program, 'pools', 'read, tune and size pools (operator)', POOLS_USAGE, (a) =>
    poolsCommand(a, cliDeps),
  );
  registerPassthrough(program, 'load', 'load-test a deployment', LOAD_USAGE, (a) => loadCommand(a, cliDeps));
  registerPassthrough(program, 'signing-keys', 'list and rotate JWT signing keys', SIGNING_KEYS_USAGE, (a) =>
    signingKeysCommand(a, cliDeps),
  );
  return program;
}

/** The configuration if it loads (to name the database or port in an error), else undefined. */
function configOrUndefined() {
  try {
    return loadConfig(process.env);
  } catch {
    return undefined;
  }
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram(argv);
  if (argv.length === 0) return void program.outputHelp();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; the rest was printed by outputError.
      process.exit(err.exitCode === 0 ? 0 : 2);
    }
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    const line = explain(err, configOrUndefined());
    if (line) {
      process.stderr.write(`${line}\n`);
      process.exit(1);
    }
    createLogger('error').error({ err }, 'ventus failed');
    process.exit(1);
  }
}

await main(process.argv.slice(2));
