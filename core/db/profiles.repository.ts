/**
 * Profiles and their immutable versions. Every read is scoped to a workspace and skips deleted
 * profiles; a version is appended under the profile's row lock, so two writers never get the same number.
 * storage_state is sealed (AES-256-GCM, core/security/profile-cipher.ts) on write and opened on read.
 */
import type { Queryable } from './database.ts';
import type { CreateSessionBody } from '../domain/session.schema.ts';
import type { ProfileCipher } from '../security/profile-cipher.ts';

export type StorageState = NonNullable<CreateSessionBody['storage_state']>;

export interface Profile {
  id: string;
  workspaceId: string;
  name: string;
  latestVersion: number;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProfileVersion {
  profileId: string;
  version: number;
  storageState: StorageState;
  createdBy: string | null;
  createdAt: Date;
}

interface ProfileRow {
  id: string;
  workspace_id: string;
  name: string;
  latest_version: number;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

interface ProfileVersionRow {
  profile_id: string;
  version: number;
  /** Sealed; a plaintext StorageState only in rows written before encryption (until sealed at start). */
  storage_state: unknown;
  created_by: string | null;
  created_at: Date;
}

const PROFILE_COLUMNS = 'id, workspace_id, name, latest_version, created_by, created_at, updated_at';

function toProfile(row: ProfileRow): Profile {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    latestVersion: row.latest_version,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toVersion(row: ProfileVersionRow, cipher: ProfileCipher): ProfileVersion {
  return {
    profileId: row.profile_id,
    version: row.version,
    storageState: cipher.open<StorageState>(row.storage_state, row.profile_id, row.version),
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

export interface NewProfile {
  id: string;
  workspaceId: string;
  name: string;
  storageState: StorageState;
  createdBy: string;
}

/**
 * Inserts a profile with its version 1. Returns undefined when the workspace already has a live
 * profile of that name (a concurrent create of the same name waits for the first and then gets undefined).
 */
export async function insertProfile(
  q: Queryable,
  cipher: ProfileCipher,
  p: NewProfile,
): Promise<Profile | undefined> {
  const { rows } = await q.query<ProfileRow>(
    `WITH ins AS (
       INSERT INTO profiles (id, workspace_id, name, latest_version, created_by)
       VALUES ($1, $2, $3, 1, $5)
       ON CONFLICT (workspace_id, name) WHERE deleted_at IS NULL DO NOTHING
       RETURNING ${PROFILE_COLUMNS}),
     v AS (INSERT INTO profile_versions (profile_id, version, storage_state, created_by)
           SELECT id, 1, $4::jsonb, $5 FROM ins)
     SELECT * FROM ins`,
    [p.id, p.workspaceId, p.name, JSON.stringify(cipher.seal(p.storageState, p.id, 1)), p.createdBy],
  );
  return rows[0] && toProfile(rows[0]);
}

/** A live profile as its workspace sees it: another workspace's (or a deleted) profile does not exist. */
export async function getWorkspaceProfile(
  q: Queryable,
  workspaceId: string,
  id: string,
): Promise<Profile | undefined> {
  const { rows } = await q.query<ProfileRow>(
    `SELECT ${PROFILE_COLUMNS} FROM profiles WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL`,
    [id, workspaceId],
  );
  return rows[0] && toProfile(rows[0]);
}

export interface ProfileFilter {
  workspaceId: string;
  /** Return profiles with ids after this one (the cursor). */
  afterId?: string;
  /** Rows to fetch (the caller asks one more than its page size). */
  limit: number;
}

export async function listProfiles(q: Queryable, f: ProfileFilter): Promise<Profile[]> {
  const { rows } = await q.query<ProfileRow>(
    `SELECT ${PROFILE_COLUMNS} FROM profiles
      WHERE workspace_id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR id > $2)
      ORDER BY id
      LIMIT $3`,
    [f.workspaceId, f.afterId ?? null, f.limit],
  );
  return rows.map(toProfile);
}

export interface NewProfileVersion {
  workspaceId: string;
  profileId: string;
  storageState: StorageState;
  createdBy: string;
  /** The version the writer last saw (If-Match); undefined appends after whatever is latest. */
  expectedVersion?: number;
}

export type AppendOutcome =
  | { kind: 'appended'; profile: Profile; version: ProfileVersion }
  | { kind: 'not-found' }
  | { kind: 'conflict'; latestVersion: number };

/**
 * Appends the next version. Must run inside a transaction: the profile row stays locked (FOR UPDATE)
 * until commit, so a concurrent writer waits, then sees the new latest_version and conflicts.
 */
export async function appendProfileVersion(
  q: Queryable,
  cipher: ProfileCipher,
  v: NewProfileVersion,
): Promise<AppendOutcome> {
  const locked = await q.query<{ latest_version: number }>(
    `SELECT latest_version FROM profiles
      WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL
      FOR UPDATE`,
    [v.profileId, v.workspaceId],
  );
  const current = locked.rows[0]?.latest_version;
  if (current === undefined) return { kind: 'not-found' };
  if (v.expectedVersion !== undefined && v.expectedVersion !== current) {
    return { kind: 'conflict', latestVersion: current };
  }
  const next = current + 1;
  const version = await q.query<ProfileVersionRow>(
    `INSERT INTO profile_versions (profile_id, version, storage_state, created_by)
     VALUES ($1, $2, $3, $4)
     RETURNING profile_id, version, storage_state, created_by, created_at`,
    [v.profileId, next, JSON.stringify(cipher.seal(v.storageState, v.profileId, next)), v.createdBy],
  );
  const profile = await q.query<ProfileRow>(
    `UPDATE profiles SET latest_version = $2, updated_at = now() WHERE id = $1 RETURNING ${PROFILE_COLUMNS}`,
    [v.profileId, next],
  );
  return {
    kind: 'appended',
    profile: toProfile(profile.rows[0]!),
    version: toVersion({ ...version.rows[0]!, storage_state: v.storageState }, cipher),
  };
}

/** One version of a live profile of the workspace, with its storage_state. */
export async function getProfileVersion(
  q: Queryable,
  cipher: ProfileCipher,
  workspaceId: string,
  profileId: string,
  version: number,
): Promise<ProfileVersion | undefined> {
  const { rows } = await q.query<ProfileVersionRow>(
    `SELECT v.profile_id, v.version, v.storage_state, v.created_by, v.created_at
       FROM profile_versions v JOIN profiles p ON p.id = v.profile_id
      WHERE v.profile_id = $1 AND v.version = $3 AND p.workspace_id = $2 AND p.deleted_at IS NULL`,
    [profileId, workspaceId, version],
  );
  return rows[0] && toVersion(rows[0], cipher);
}

/** Whether the version is still kept (the oldest are pruned past the workspace's limit). */
export async function profileVersionExists(
  q: Queryable,
  profileId: string,
  version: number,
): Promise<boolean> {
  const { rowCount } = await q.query(
    'SELECT 1 FROM profile_versions WHERE profile_id = $1 AND version = $2',
    [profileId, version],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * The storage_state a session pinned: deleted profiles included (a delete never changes what a
 * created session loads), other workspaces' never.
 */
export async function getPinnedStorageState(
  q: Queryable,
  cipher: ProfileCipher,
  workspaceId: string,
  profileId: string,
  version: number,
): Promise<StorageState | undefined> {
  const { rows } = await q.query<ProfileVersionRow>(
    `SELECT v.profile_id, v.version, v.storage_state, v.created_by, v.created_at
       FROM profile_versions v JOIN profiles p ON p.id = v.profile_id
      WHERE v.profile_id = $1 AND v.version = $3 AND p.workspace_id = $2`,
    [profileId, workspaceId, version],
  );
  return rows[0] && toVersion(rows[0], cipher).storageState;
}

/**
 * Seals every version still stored in plaintext (written before encryption at rest). Idempotent and
 * safe to run from several processes at once: each row is sealed only while it is still plaintext
 * (the immutability trigger allows exactly that change). Returns how many rows it sealed.
 */
export async function sealPlaintextVersions(q: Queryable, cipher: ProfileCipher): Promise<number> {
  const { rows } = await q.query<ProfileVersionRow>(
    `SELECT profile_id, version, storage_state FROM profile_versions WHERE NOT (storage_state ? 'ciphertext')`,
  );
  let sealed = 0;
  for (const row of rows) {
    const res = await q.query(
      `UPDATE profile_versions SET storage_state = $3::jsonb
        WHERE profile_id = $1 AND version = $2 AND NOT (storage_state ? 'ciphertext')`,
      [
        row.profile_id,
        row.version,
        JSON.stringify(cipher.seal(row.storage_state, row.profile_id, row.version)),
      ],
    );
    sealed += res.rowCount ?? 0;
  }
  return sealed;
}

/** Soft-deletes a live profile; undefined when there is none (already deleted, or not this workspace's). */
export async function deleteProfile(
  q: Queryable,
  workspaceId: string,
  id: string,
): Promise<Profile | undefined> {
  const { rows } = await q.query<ProfileRow>(
    `UPDATE profiles SET deleted_at = now(), updated_at = now()
      WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL
      RETURNING ${PROFILE_COLUMNS}`,
    [id, workspaceId],
  );
  return rows[0] && toProfile(rows[0]);
}
