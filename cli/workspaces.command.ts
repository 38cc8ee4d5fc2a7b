/**
 * `ventus workspaces create|list|show|set`: tenants, made by an administrator at the shell, and the
 * limits an operator sets on them (the same change, audited as an admin action by "cli", as PATCH
 * /v1/workspaces/{id}/limits). `default` resets a limit to the installation default.
 */
import { Option, type Command } from 'commander';
import { createWorkspace, findWorkspace } from '../core/db/workspaces.repository.ts';
import {
  findWorkspaceSettings,
  limitDefaults,
  listWorkspaceSettings,
  type LimitsPatch,
  type WorkspaceSettings,
} from '../core/db/workspace-settings.repository.ts';
import {
  LIMIT_FIELDS,
  RECORDING_RETENTION_DAYS,
  limitsResource,
  type LimitField,
} from '../core/domain/workspace-limits.ts';
import { changeRecordingRetention, changeWorkspaceLimits } from '../core/workspaces/change-workspace.ts';
import { table } from './pools.output.ts';
import { cliDeps, print } from './cli-context.ts';
import { workspaceResource } from '../core/workspaces/workspace-resource.ts';

/** Flag name of each limit (kebab-case of its API name). */
const FLAGS = Object.fromEntries(
  (Object.keys(LIMIT_FIELDS) as LimitField[]).map((f) => [f.replaceAll('_', '-'), f]),
) as Record<string, LimitField>;

const CLI_ACTOR = { id: 'cli', class: 'admin' as const };

function workspacesText(list: WorkspaceSettings[]): string {
  const header = ['NAME', 'ID', 'RETENTION_DAYS', ...Object.keys(FLAGS).map((f) => f.toUpperCase())];
  const rows = list.map((w) => {
    const limits = limitsResource(w.limits);
    return [
      w.name,
      w.id,
      String(w.recordingRetentionDays),
      ...Object.values(FLAGS).map((f) => String(limits[f] ?? 'none')),
    ];
  });
  return table([header, ...rows]);
}

/** A flag's value: an integer within the limit's bounds, or null for the default. */
function limitValue(field: LimitField, raw: string): number | null {
  if (raw === 'default' || (raw === 'none' && field === 'max_session_lifetime_seconds')) return null;
  const { min, max } = LIMIT_FIELDS[field];
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    cliDeps.fail(
      `--${field.replaceAll('_', '-')}: expected an integer ${min}-${max} or "default", got ${JSON.stringify(raw)}`,
    );
  return n;
}

function retentionValue(raw: string): number {
  const days = Number(raw);
  const { min, max } = RECORDING_RETENTION_DAYS;
  if (!/^\d+$/.test(raw) || days < min || days > max)
    cliDeps.fail(`--recording-retention-days: expected an integer ${min}-${max}, got ${JSON.stringify(raw)}`);
  return days;
}

type SetOptions = Record<string, string | boolean | undefined> & { json?: boolean };

/** Reads (`show`) or changes (`set`) one workspace's settings and limits. */
async function showOrSet(ref: string, opts: SetOptions, change: boolean): Promise<void> {
  const { withDatabase, readConfig, fail } = cliDeps;
  const patch: LimitsPatch = {};
  for (const [flag, field] of Object.entries(FLAGS)) {
    const raw = opts[camel(flag)];
    if (typeof raw === 'string') patch[field] = limitValue(field, raw);
  }
  const retentionRaw = opts.recordingRetentionDays;
  const retention = typeof retentionRaw === 'string' ? retentionValue(retentionRaw) : undefined;
  if (change && Object.keys(patch).length === 0 && retention === undefined)
    fail('ventus workspaces set: nothing to set (see ventus workspaces set --help)');
  const config = readConfig();
  const defaults = limitDefaults(config);
  const result = await withDatabase(config, async (db) => {
    const ws = await findWorkspaceSettings(db, ref, defaults);
    if (!ws || !change) return ws;
    const deps = { db, defaults };
    let after = ws;
    if (Object.keys(patch).length > 0)
      after = (await changeWorkspaceLimits(deps, ws.id, patch, CLI_ACTOR)) ?? after;
    if (retention !== undefined)
      after = (await changeRecordingRetention(deps, ws.id, retention, CLI_ACTOR)) ?? after;
    return after;
  });
  if (!result) return fail(`no workspace ${ref}: ventus workspaces list shows them`);
  print(opts.json, workspaceResource(result), workspacesText([result]));
}

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function registerWorkspaces(program: Command): Command {
  const workspaces = program.command('workspaces').description('create, list and limit workspaces (tenants)');
  workspaces
    .command('create')
    .description('create a workspace')
    .argument('<name>', 'its name, unique')
    .option('--json', 'print the workspace as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  ventus workspaces create acme\n  ventus workspaces create acme --json',
    )
    .action(async (name: string, opts: { json?: boolean }) => {
      const { withDatabase, readConfig, fail } = cliDeps;
      const ws = await withDatabase(readConfig(), async (db) => {
        if (await findWorkspace(db, name))
          fail(
            `workspace ${name} already exists: make a key for it with ventus keys create --workspace ${name}`,
          );
        return createWorkspace(db, name);
      });
      print(
        opts.json,
        { id: ws.id, name: ws.name, created_at: ws.createdAt.toISOString() },
        `workspace ${ws.name} ${ws.id}`,
      );
    });
  workspaces
    .command('list')
    .description('list the workspaces with their settings and limits, oldest first')
    .option('--json', 'print {"data": [...]} as JSON')
    .addHelpText('after', '\nExamples:\n  ventus workspaces list\n  ventus workspaces list --json')
    .action(async (opts: { json?: boolean }) => {
      const config = cliDeps.readConfig();
      const all = await cliDeps.withDatabase(config, (db) =>
        listWorkspaceSettings(db, limitDefaults(config)),
      );
      print(
        opts.json,
        { data: all.map(workspaceResource) },
        all.length === 0 ? 'no workspaces yet: ventus workspaces create <name>' : workspacesText(all),
      );
    });
  workspaces
    .command('show')
    .description("a workspace's settings and limits")
    .argument('<name-or-id>')
    .option('--json', 'print the workspace as JSON')
    .addHelpText('after', '\nExamples:\n  ventus workspaces show acme --json')
    .action((ref: string, opts: SetOptions) => showOrSet(ref, opts, false));
  const set = workspaces
    .command('set')
    .description("change a workspace's limits (operators) and recording retention (audited as cli)")
    .argument('<name-or-id>')
    .option('--json', 'print the workspace as JSON')
    .option(
      '--recording-retention-days <days>',
      `days recordings are kept (${RECORDING_RETENTION_DAYS.min}-${RECORDING_RETENTION_DAYS.max})`,
    )
    .addHelpText(
      'after',
      '\nA limit set to "default" returns to the installation default; --max-session-lifetime-seconds none = no ceiling.\n' +
        'Examples:\n  ventus workspaces set acme --live-sessions 20 --max-session-lifetime-seconds 7200\n' +
        '  ventus workspaces set acme --recording-retention-days 365',
    );
  for (const [flag, field] of Object.entries(FLAGS)) {
    const { min, max } = LIMIT_FIELDS[field];
    set.addOption(new Option(`--${flag} <n>`, `${min}-${max}, or default`));
  }
  set.action((ref: string, opts: SetOptions) => showOrSet(ref, opts, true));
  return workspaces;
}
