/**
 * Listing and revoking API keys. Creation and authentication stay in workspaces.repository.ts.
 * Nothing here reads or returns the secret hash.
 */
import type { Queryable } from './database.ts';
import type { Scope } from '../domain/scopes.ts';

export interface ApiKeyRecord {
  id: string;
  workspaceId: string;
  name: string | null;
  scopes: Scope[];
  createdAt: Date;
  revokedAt: Date | null;
}

interface ApiKeyRow {
  id: string;
  workspace_id: string;
  name: string | null;
  scopes: Scope[];
  created_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = 'id, workspace_id, name, scopes, created_at, revoked_at';

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    scopes: row.scopes,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

/** A workspace's keys (revoked ones included), oldest first, after `afterId`. */
export async function listApiKeys(
  q: Queryable,
  f: { workspaceId: string; afterId?: string; limit: number },
): Promise<ApiKeyRecord[]> {
  const { rows } = await q.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM api_keys
      WHERE workspace_id = $1 AND ($2::text IS NULL OR id > $2)
      ORDER BY id LIMIT $3`,
    [f.workspaceId, f.afterId ?? null, f.limit],
  );
  return rows.map(toRecord);
}

/** One key of one workspace: another workspace's key is undefined, as if it did not exist. */
export async function getWorkspaceApiKey(
  q: Queryable,
  workspaceId: string,
  id: string,
): Promise<ApiKeyRecord | undefined> {
  const { rows } = await q.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM api_keys WHERE workspace_id = $1 AND id = $2`,
    [workspaceId, id],
  );
  return rows[0] && toRecord(rows[0]);
}

/**
 * Sets revoked_at once. `revoked` is false when the key had already been revoked (the record is
 * returned unchanged); undefined when the workspace has no such key.
 */
export async function revokeApiKey(
  q: Queryable,
  workspaceId: string,
  id: string,
): Promise<{ key: ApiKeyRecord; revoked: boolean } | undefined> {
  const { rows } = await q.query<ApiKeyRow>(
    `UPDATE api_keys SET revoked_at = now()
      WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL
      RETURNING ${COLUMNS}`,
    [workspaceId, id],
  );
  if (rows[0]) return { key: toRecord(rows[0]), revoked: true };
  const existing = await getWorkspaceApiKey(q, workspaceId, id);
  return existing && { key: existing, revoked: false };
}

/** A key by id, whatever its workspace (the CLI acts as an administrator). */
export async function findApiKey(q: Queryable, id: string): Promise<ApiKeyRecord | undefined> {
  const { rows } = await q.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
  return rows[0] && toRecord(rows[0]);
}
