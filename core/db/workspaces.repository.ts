/** Workspaces and their API keys (only a SHA-256 of each key's secret is stored). */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from './database.ts';
import { formatApiKey, isUlid, newId, parseApiKey } from '../domain/ids.ts';
import type { Scope } from '../domain/scopes.ts';

export interface Workspace {
  id: string;
  name: string;
  createdAt: Date;
}

export interface ApiKeyPrincipal {
  keyId: string;
  workspaceId: string;
  scopes: Scope[];
}

export async function createWorkspace(q: Queryable, name: string): Promise<Workspace> {
  const { rows } = await q.query<{ id: string; name: string; created_at: Date }>(
    'INSERT INTO workspaces (id, name) VALUES ($1, $2) RETURNING id, name, created_at',
    [newId(), name],
  );
  const row = rows[0]!;
  return { id: row.id, name: row.name, createdAt: row.created_at };
}

export async function findWorkspace(q: Queryable, nameOrId: string): Promise<Workspace | undefined> {
  const { rows } = await q.query<{ id: string; name: string; created_at: Date }>(
    `SELECT id, name, created_at FROM workspaces WHERE name = $1 ${isUlid(nameOrId) ? 'OR id = $1' : ''}`,
    [nameOrId],
  );
  const row = rows[0];
  return row && { id: row.id, name: row.name, createdAt: row.created_at };
}

function hashSecret(secret: string): Buffer {
  // The secret has 190 bits of entropy, so a fast hash is enough; no salt or KDF is needed.
  return createHash('sha256').update(secret).digest();
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomSecret(length = 32): string {
  // 248 is the largest multiple of 62 below 256: rejecting larger bytes keeps every character equally likely.
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}

/** Creates a key and returns it in full: the only time the secret is ever visible. */
export async function createApiKey(
  q: Queryable,
  workspaceId: string,
  scopes: readonly Scope[],
  name?: string,
): Promise<{ apiKey: string; keyId: string }> {
  const keyId = newId();
  const secret = randomSecret();
  await q.query(
    'INSERT INTO api_keys (id, workspace_id, secret_hash, scopes, name) VALUES ($1, $2, $3, $4, $5)',
    [keyId, workspaceId, hashSecret(secret), scopes, name ?? null],
  );
  return { apiKey: formatApiKey(keyId, secret), keyId };
}

/** The principal of a presented bearer token, or undefined for a malformed, unknown or revoked key. */
export async function authenticateApiKey(q: Queryable, token: string): Promise<ApiKeyPrincipal | undefined> {
  const parsed = parseApiKey(token);
  if (!parsed) return undefined;
  const { rows } = await q.query<{ workspace_id: string; secret_hash: Buffer; scopes: Scope[] }>(
    'SELECT workspace_id, secret_hash, scopes FROM api_keys WHERE id = $1 AND revoked_at IS NULL',
    [parsed.keyId],
  );
  const row = rows[0];
  const presented = hashSecret(parsed.secret);
  // Compare even when the key is unknown, so timing does not reveal which key ids exist.
  const stored = row?.secret_hash ?? Buffer.alloc(presented.length);
  const matches = stored.length === presented.length && timingSafeEqual(stored, presented);
  if (!row || !matches) return undefined;
  return { keyId: parsed.keyId, workspaceId: row.workspace_id, scopes: row.scopes };
}

/** Every workspace, oldest first. */
export async function listWorkspaces(q: Queryable): Promise<Workspace[]> {
  const { rows } = await q.query<{ id: string; name: string; created_at: Date }>(
    'SELECT id, name, created_at FROM workspaces ORDER BY id',
  );
  return rows.map((row) => ({ id: row.id, name: row.name, createdAt: row.created_at }));
}
