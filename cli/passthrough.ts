/**
 * Command groups that parse their own flags (pools, load, signing-keys): registered under their
 * name, they get every argument after it and print their own usage for `--help`.
 */
import type { Command } from 'commander';

export function registerPassthrough(
  program: Command,
  name: string,
  description: string,
  usage: string,
  run: (argv: string[]) => Promise<void>,
): void {
  program
    .command(name)
    .description(description)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .addHelpText('after', `\nusage:\n${usage}`)
    .action((args: string[]) => run(args));
}
