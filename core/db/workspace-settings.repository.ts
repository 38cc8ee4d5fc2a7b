/**
 * A workspace's settings: the limits an operator set (NULL columns: the installation default) and the
 * settings its owners manage (recording_retention_days). Reads return the effective values.
 */
import type { Queryable } from './database.ts';
import {
  DEFAULT_WORKSPACE_LIMITS,
  LIMIT_FIELDS,
  type LimitField,
  type WorkspaceLimits,
} from '../domain/workspace-limits.ts';

export interface WorkspaceSettings {
  id: string;
  name: string;
  recordingRetentionDays: number;
  limits: WorkspaceLimits;
  createdAt: Date;
}

/** The installation defaults (config can move the live-sessions default). */
export function limitDefaults(config: { workspaceLiveSessions: number }): WorkspaceLimits {
  return { ...DEFAULT_WORKSPACE_LIMITS, liveSessions: config.workspaceLiveSessions };
}

const COLUMN: Record<LimitField, string> = {
  live_sessions: 'limit_live_sessions',
  max_session_lifetime_seconds: 'limit_session_lifetime_seconds',
  profiles: 'limit_profiles',
  versions_per_profile: 'limit_versions_per_profile',
  stored_bytes: 'limit_stored_bytes',
  cdp_sockets_per_session: 'limit_cdp_sockets_per_session',
  viewers_per_session: 'limit_viewers_per_session',
};
const FIELDS = Object.keys(COLUMN) as LimitField[];
const COLUMNS = `id, name, recording_retention_days, created_at, ${Object.values(COLUMN).join(', ')}`;

type Row = { id: string; name: string; recording_retention_days: number; created_at: Date } & Record<
  string,
  number | null
>;

function toSettings(row: Row, defaults: WorkspaceLimits): WorkspaceSettings {
  const limits = { ...defaults };
  for (const field of FIELDS) {
    const value = row[COLUMN[field]];
    if (value !== null && value !== undefined) limits[LIMIT_FIELDS[field].name] = Number(value);
  }
  return {
    id: row.id,
    name: row.name,
    recordingRetentionDays: row.recording_retention_days,
    limits,
    createdAt: row.created_at,
  };
}

export async function getWorkspaceSettings(
  q: Queryable,
  id: string,
  defaults: WorkspaceLimits,
): Promise<WorkspaceSettings | undefined> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM workspaces WHERE id = $1`, [id]);
  return rows[0] && toSettings(rows[0], defaults);
}

/** The workspace's effective limits (the defaults for a workspace that does not exist). */
export async function workspaceLimits(
  q: Queryable,
  id: string,
  defaults: WorkspaceLimits,
): Promise<WorkspaceLimits> {
  return (await getWorkspaceSettings(q, id, defaults))?.limits ?? defaults;
}

/** By name or id (the CLI), or undefined. */
export async function findWorkspaceSettings(
  q: Queryable,
  nameOrId: string,
  defaults: WorkspaceLimits,
): Promise<WorkspaceSettings | undefined> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM workspaces WHERE id = $1 OR name = $1`, [
    nameOrId,
  ]);
  return rows[0] && toSettings(rows[0], defaults);
}

export async function listWorkspaceSettings(
  q: Queryable,
  defaults: WorkspaceLimits,
): Promise<WorkspaceSettings[]> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM workspaces ORDER BY name`);
  return rows.map((r) => toSettings(r, defaults));
}

/** The limits an operator set explicitly (the rest are defaults): what an audit row records. */
export type LimitsPatch = Partial<Record<LimitField, number | null>>;

/** Sets (or, with null, resets to the default) some limits; the row is locked until commit. */
export async function updateWorkspaceLimits(
  q: Queryable,
  id: string,
  patch: LimitsPatch,
  defaults: WorkspaceLimits,
): Promise<WorkspaceSettings | undefined> {
  const fields = FIELDS.filter((f) => patch[f] !== undefined);
  const sets = fields.map((f, i) => `${COLUMN[f]} = $${i + 2}`);
  const { rows } = await q.query<Row>(
    `UPDATE workspaces SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, ...fields.map((f) => patch[f])],
  );
  return rows[0] && toSettings(rows[0], defaults);
}

export async function setRecordingRetention(
  q: Queryable,
  id: string,
  days: number,
  defaults: WorkspaceLimits,
): Promise<WorkspaceSettings | undefined> {
  const { rows } = await q.query<Row>(
    `UPDATE workspaces SET recording_retention_days = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, days],
  );
  return rows[0] && toSettings(rows[0], defaults);
}
