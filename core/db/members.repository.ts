/** Workspace members. Email is unique per workspace, compared case-insensitively. */
import type { Queryable } from './database.ts';
import { newId } from '../domain/ids.ts';
import type { MemberRole } from '../domain/member.schema.ts';

export interface Member {
  id: string;
  workspaceId: string;
  email: string;
  role: MemberRole;
  createdAt: Date;
}

interface MemberRow {
  id: string;
  workspace_id: string;
  email: string;
  role: MemberRole;
  created_at: Date;
}

function toMember(row: MemberRow): Member {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    email: row.email,
    role: row.role,
    createdAt: row.created_at,
  };
}

/** A workspace's members, oldest first, after `afterId`. */
export async function listMembers(
  q: Queryable,
  f: { workspaceId: string; afterId?: string; limit: number },
): Promise<Member[]> {
  const { rows } = await q.query<MemberRow>(
    `SELECT * FROM members WHERE workspace_id = $1 AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3`,
    [f.workspaceId, f.afterId ?? null, f.limit],
  );
  return rows.map(toMember);
}

/** Adds a member; undefined when the workspace already has one with this email. */
export async function insertMember(
  q: Queryable,
  m: { workspaceId: string; email: string; role: MemberRole },
): Promise<Member | undefined> {
  // ON CONFLICT rather than catching 23505: a duplicate is an expected answer, not an error, and a
  // concurrent duplicate waits for the first insert instead of failing the transaction.
  const { rows } = await q.query<MemberRow>(
    `INSERT INTO members (id, workspace_id, email, role) VALUES ($1, $2, $3, $4)
     ON CONFLICT (workspace_id, lower(email)) DO NOTHING RETURNING *`,
    [newId(), m.workspaceId, m.email, m.role],
  );
  return rows[0] && toMember(rows[0]);
}

export interface LockedMember {
  member: Member;
  /** True when no other owner would remain if this member stopped being an owner. */
  isLastOwner: boolean;
}

/**
 * Locks the workspace's owner rows, then the member, for a role change or removal. Call inside a
 * transaction. The owners are locked first and in id order, by every caller, so two concurrent
 * demotions queue on the same first row instead of deadlocking; the second then sees the first's
 * committed change (READ COMMITTED re-checks `role = 'owner'` after the wait) and refuses to
 * remove the one owner left. Undefined when the workspace has no such member.
 */
export async function lockMemberForChange(
  q: Queryable,
  workspaceId: string,
  id: string,
): Promise<LockedMember | undefined> {
  const owners = await q.query<{ id: string }>(
    `SELECT id FROM members WHERE workspace_id = $1 AND role = 'owner' ORDER BY id FOR UPDATE`,
    [workspaceId],
  );
  const { rows } = await q.query<MemberRow>(
    'SELECT * FROM members WHERE workspace_id = $1 AND id = $2 FOR UPDATE',
    [workspaceId, id],
  );
  const row = rows[0];
  if (!row) return undefined;
  // Owners other than this member, all locked: none can stop being an owner before we commit.
  const otherOwners = owners.rows.filter((o) => o.id !== row.id).length;
  return { member: toMember(row), isLastOwner: row.role === 'owner' && otherOwners === 0 };
}

export async function setMemberRole(q: Queryable, id: string, role: MemberRole): Promise<Member> {
  const { rows } = await q.query<MemberRow>('UPDATE members SET role = $2 WHERE id = $1 RETURNING *', [
    id,
    role,
  ]);
  return toMember(rows[0]!);
}

export async function deleteMember(q: Queryable, id: string): Promise<void> {
  await q.query('DELETE FROM members WHERE id = $1', [id]);
}
