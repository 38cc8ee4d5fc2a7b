/**
 * `ventus signing-keys list|rotate`: the JWT signing keys (connect_url, live_view_url, recording_url).
 * `rotate` adds a key that signs from now on and retires the previous one, which keeps verifying until
 * the sweep deletes it (docs/operations.md). Neither command ever prints a secret. Bad usage exits 2.
 */
import { parseArgs } from 'node:util';
import {
  listSigningKeys,
  rotateSigningKey,
  type SigningKeyRecord,
} from '../core/db/signing-keys.repository.ts';
import { KEY_REFRESH_MS } from '../core/security/signing-keyring.ts';
import type { PoolsCommandDeps } from './pools.command.ts';
import { table } from './pools.output.ts';

export const SIGNING_KEYS_USAGE = `  ventus signing-keys list [--json]
  ventus signing-keys rotate [--json]`;

type Deps = Pick<PoolsCommandDeps, 'readConfig' | 'withDatabase' | 'fail'>;

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** signing (the current key), verifying (retired, not yet swept) or deleted. */
function state(k: SigningKeyRecord): 'signing' | 'verifying' | 'deleted' {
  if (k.deletedAt) return 'deleted';
  return k.retiredAt ? 'verifying' : 'signing';
}

function keyJson(k: SigningKeyRecord) {
  return {
    kid: k.kid,
    state: state(k),
    source: k.source,
    legacy: k.legacy,
    created_at: k.createdAt.toISOString(),
    retired_at: iso(k.retiredAt),
    deleted_at: iso(k.deletedAt),
  };
}

function keysText(keys: SigningKeyRecord[]): string {
  const rows = keys.map((k) => [
    k.kid,
    state(k),
    k.source,
    k.createdAt.toISOString(),
    iso(k.retiredAt) ?? '-',
    iso(k.deletedAt) ?? '-',
  ]);
  return table([['KID', 'STATE', 'SOURCE', 'CREATED', 'RETIRED', 'DELETED'], ...rows]);
}

function rotatedText(kid: string, retired: string[], fromEnvironment: boolean): string {
  const lines = [
    `signing key ${kid} created; every process signs with it within ${KEY_REFRESH_MS / 1000} s`,
    retired.length > 0
      ? `retired ${retired.join(', ')}: still verifying until its sessions end, then the sweep deletes it`
      : 'no key was retired',
  ];
  if (fromEnvironment)
    lines.push(
      'VENTUS_JWT_SECRET is retired: keep it set until `ventus signing-keys list` shows it deleted, then remove it',
    );
  return lines.join('\n');
}

export async function signingKeysCommand(argv: string[], deps: Deps): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    return deps.fail(`${(err as Error).message}\nusage:\n${SIGNING_KEYS_USAGE}`);
  }
  const { values, positionals } = parsed;
  const [sub, ...extra] = positionals;
  if (values.help || !sub) return void process.stdout.write(`usage:\n${SIGNING_KEYS_USAGE}\n`);
  if (extra.length > 0 || (sub !== 'list' && sub !== 'rotate'))
    return deps.fail(
      `unknown command: ventus signing-keys ${positionals.join(' ')}\nusage:\n${SIGNING_KEYS_USAGE}`,
    );
  const config = deps.readConfig();
  const json = values.json;
  if (sub === 'list') {
    const keys = await deps.withDatabase(config, listSigningKeys);
    process.stdout.write(`${json ? JSON.stringify({ data: keys.map(keyJson) }) : keysText(keys)}\n`);
    return;
  }
  const { rotated, fromEnvironment } = await deps.withDatabase(config, async (db) => {
    const before = await listSigningKeys(db);
    const result = await rotateSigningKey(db, { id: 'cli', class: 'admin' });
    const environment = new Set(before.filter((k) => k.source === 'environment').map((k) => k.kid));
    return { rotated: result, fromEnvironment: result.retired.some((kid) => environment.has(kid)) };
  });
  const { key, retired } = rotated;
  process.stdout.write(
    `${json ? JSON.stringify({ ...keyJson(key), retired }) : rotatedText(key.kid, retired, fromEnvironment)}\n`,
  );
}
