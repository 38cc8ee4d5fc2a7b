/**
 * `ventus keys create|list|revoke`: API keys made by an administrator at the shell (the only way to
 * grant `operator`). The secret is printed once, at creation; only its hash is stored.
 */
import type { Command } from 'commander';
import { DEFAULT_SCOPES, SCOPES, isScope, type Scope } from '../core/domain/scopes.ts';
import { isUlid, parseApiKey } from '../core/domain/ids.ts';
import { createApiKey, findWorkspace } from '../core/db/workspaces.repository.ts';
import { findApiKey, listApiKeys, revokeApiKey, type ApiKeyRecord } from '../core/db/api-keys.repository.ts';
import { appendAudit } from '../core/db/audit.repository.ts';
import { withTransaction, type Database } from '../core/db/database.ts';
import { table } from './pools.output.ts';
import { cliDeps, print } from './cli-context.ts';

const keyJson = (k: ApiKeyRecord) => ({
  id: k.id,
  workspace_id: k.workspaceId,
  name: k.name,
  scopes: k.scopes,
  created_at: k.createdAt.toISOString(),
  revoked_at: k.revokedAt?.toISOString() ?? null,
});

/** The --workspace flag, checked in the action so that an unknown flag is reported first. */
function workspaceFlag(command: string, value: string | undefined): string {
  if (!value)
    cliDeps.fail(
      `--workspace is required: ventus keys ${command} --workspace <name> (see ventus workspaces list)`,
    );
  return value;
}

async function workspaceOf(db: Database, ref: string) {
  const ws = await findWorkspace(db, ref);
  if (!ws)
    cliDeps.fail(
      `no workspace ${ref}: see ventus workspaces list, or create it with ventus workspaces create ${ref}`,
    );
  return ws;
}

function parseScopes(text: string | undefined): Scope[] {
  const scopes = text
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean) ?? [...DEFAULT_SCOPES];
  const bad = scopes.filter((s) => !isScope(s));
  if (bad.length > 0) cliDeps.fail(`unknown scope(s): ${bad.join(', ')} (known: ${SCOPES.join(', ')})`);
  return scopes as Scope[];
}

export function registerKeys(program: Command): Command {
  const keys = program.command('keys').description('create, list and revoke API keys');
  keys
    .command('create')
    .description('create an API key for a workspace; its secret is shown this once')
    .option('--workspace <name-or-id>', 'the workspace (required)')
    .option(
      '--scopes <a,b>',
      `comma-separated scopes (default ${DEFAULT_SCOPES.join(',')}; known: ${SCOPES.join(', ')})`,
    )
    .option('--name <label>', 'a label to tell keys apart')
    .option('--json', 'print {"api_key", "key_id", "workspace_id", "scopes"} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  ventus keys create --workspace acme
  ventus keys create --workspace acme --scopes operator --name ops --json
  export VENTUS_API_KEY=$(ventus keys create --workspace acme)`,
    )
    .action(async (opts: { workspace?: string; scopes?: string; name?: string; json?: boolean }) => {
      const workspace = workspaceFlag('create', opts.workspace);
      const scopes = parseScopes(opts.scopes);
      const key = await cliDeps.withDatabase(cliDeps.readConfig(), async (db) => {
        const ws = await workspaceOf(db, workspace);
        return { ...(await createApiKey(db, ws.id, scopes, opts.name)), workspaceId: ws.id };
      });
      print(
        opts.json,
        { api_key: key.apiKey, key_id: key.keyId, workspace_id: key.workspaceId, scopes },
        key.apiKey,
      );
    });
  keys
    .command('list')
    .description("list a workspace's keys (revoked ones included), never their secrets")
    .option('--workspace <name-or-id>', 'the workspace (required)')
    .option('--json', 'print {"data": [...]} as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  ventus keys list --workspace acme\n  ventus keys list --workspace acme --json',
    )
    .action(async (opts: { workspace?: string; json?: boolean }) => {
      const workspace = workspaceFlag('list', opts.workspace);
      const list = await cliDeps.withDatabase(cliDeps.readConfig(), async (db) => {
        const ws = await workspaceOf(db, workspace);
        return listApiKeys(db, { workspaceId: ws.id, limit: 10_000 });
      });
      const rows = list.map((k) => [
        k.id,
        k.name ?? '-',
        k.scopes.join(','),
        k.createdAt.toISOString(),
        k.revokedAt?.toISOString() ?? '-',
      ]);
      print(
        opts.json,
        { data: list.map(keyJson) },
        table([['ID', 'NAME', 'SCOPES', 'CREATED', 'REVOKED'], ...rows], 5),
      );
    });
  keys
    .command('revoke')
    .description('revoke an API key: it fails authentication from now on (other broker replicas within 5 s)')
    .argument('<key>', 'the key id, or the whole key (vs_…)')
    .option('--json', 'print the key as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  ventus keys revoke 01JAXXXXXXXXXXXXXXXXXXXXXX\n  ventus keys revoke "$VENTUS_API_KEY"',
    )
    .action(async (ref: string, opts: { json?: boolean }) => {
      const id = parseApiKey(ref)?.keyId ?? ref;
      if (!isUlid(id)) cliDeps.fail(`${ref} is not a key id: see ventus keys list --workspace <name>`);
      const result = await cliDeps.withDatabase(cliDeps.readConfig(), (db) =>
        withTransaction(db, async (tx) => {
          const found = await findApiKey(tx, id);
          if (!found) cliDeps.fail(`no API key ${id}: see ventus keys list --workspace <name>`);
          const r = (await revokeApiKey(tx, found.workspaceId, id))!;
          if (r.revoked)
            await appendAudit(tx, {
              workspaceId: found.workspaceId,
              class: 'admin',
              actor: 'cli',
              action: 'key.revoke',
              targetType: 'api_key',
              targetId: id,
            });
          return r;
        }),
      );
      print(
        opts.json,
        keyJson(result.key),
        result.revoked
          ? `revoked ${id}`
          : `${id} was already revoked (${result.key.revokedAt!.toISOString()})`,
      );
    });
  return keys;
}
