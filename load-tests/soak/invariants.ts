/**
 * What must hold after any fault, read from the stores themselves: every session's transitions are
 * legal and end where its status is; no session is lost or duplicated (rows vs what clients were
 * answered, per Idempotency-Key); the slots admitted in Redis equal the live sessions in Postgres;
 * every pod the driver runs is warm, starting or held by a RUNNING session. Each check returns the
 * violations it found (empty: it holds).
 */
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { RedisKeys } from '../../core/redis/keys.ts';
import {
  END_STATUS,
  canTransition,
  isTerminal,
  type ReleaseReason,
  type SessionStatus,
} from '../../core/domain/session-states.ts';
import type { Traffic } from './traffic.ts';

export interface InvariantDeps {
  db: pg.Pool;
  redis: Redis;
  /** The installation's Redis prefix (VENTUS_REDIS_PREFIX). */
  prefix: string;
  pool: string;
  workspaceId: string;
  /** Every pod the runtime driver holds (alive or not), by id. */
  podIds: () => Promise<string[]>;
}

interface Row {
  id: string;
  status: SessionStatus;
  release_reason: ReleaseReason | null;
  pod_id: string | null;
  key: string | null;
  chain: { from: SessionStatus | null; to: SessionStatus }[];
  creates: number;
}

async function sessionRows(deps: InvariantDeps): Promise<Row[]> {
  const { rows } = await deps.db.query<Row>(
    `SELECT s.id, s.status, s.release_reason, s.pod_id, k.key,
            (SELECT coalesce(json_agg(json_build_object('from', t.from_status, 'to', t.to_status) ORDER BY t.id), '[]')
               FROM session_transitions t WHERE t.session_id = s.id) AS chain,
            (SELECT count(*) FROM audit_log a WHERE a.target_id = s.id AND a.action = 'session.create')::int AS creates
       FROM sessions s LEFT JOIN idempotency_keys k ON k.session_id = s.id AND k.workspace_id = s.workspace_id
      WHERE s.workspace_id = $1`,
    [deps.workspaceId],
  );
  return rows;
}

/** Sessions not yet terminal or RUNNING (caller waits for none once the stream has drained). */
export async function unsettled(deps: InvariantDeps): Promise<string[]> {
  const { rows } = await deps.db.query<{ id: string; status: string }>(
    `SELECT id, status FROM sessions WHERE workspace_id = $1 AND status IN ('QUEUED','PROVISIONING')`,
    [deps.workspaceId],
  );
  return rows.map((r) => `${r.id} still ${r.status}`);
}

/** Legal transitions, one create audit row each, no lost or duplicated sessions. */
export async function sessionViolations(deps: InvariantDeps, traffic: Traffic): Promise<string[]> {
  const out: string[] = [];
  const rows = await sessionRows(deps);
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const r of rows) {
    const first = r.chain[0];
    if (!first || first.from !== null || first.to !== 'QUEUED')
      out.push(`${r.id}: history does not start at QUEUED`);
    for (let i = 1; i < r.chain.length; i++) {
      const { from, to } = r.chain[i]!;
      if (from !== r.chain[i - 1]!.to || from === null || !canTransition(from, to))
        out.push(`${r.id}: illegal transition ${from} -> ${to} after ${r.chain[i - 1]!.to}`);
    }
    if (r.chain.at(-1)?.to !== r.status)
      out.push(`${r.id}: status ${r.status} but last transition to ${r.chain.at(-1)?.to}`);
    if (isTerminal(r.status) && (!r.release_reason || END_STATUS[r.release_reason] !== r.status))
      out.push(`${r.id}: ${r.status} with release_reason ${r.release_reason}`);
    if (r.creates !== 1) out.push(`${r.id}: ${r.creates} session.create audit rows`);
    if (!r.key) out.push(`${r.id}: no idempotency key row`);
    else if (!traffic.answered.has(r.key) && !traffic.unanswered.has(r.key))
      out.push(`${r.id}: created under key ${r.key} no client sent`);
  }
  for (const [key, ids] of traffic.answered) {
    if (ids.size !== 1) out.push(`key ${key}: answered with ${ids.size} different sessions`);
    for (const id of ids) {
      const row = byId.get(id);
      if (!row) out.push(`session ${id} (key ${key}) was answered 2xx but has no row: lost`);
      else if (row.key !== key)
        out.push(`session ${id}: answered for key ${key} but stored under ${row.key}`);
    }
  }
  return out;
}

/** Admitted slots in Redis == live (non-terminal) sessions in Postgres, for the pool. */
export async function capacityViolations(deps: InvariantDeps): Promise<string[]> {
  const keys = new RedisKeys(deps.prefix);
  const [slots, { rows }] = await Promise.all([
    deps.redis.zrange(keys.poolActive(deps.pool), 0, -1),
    deps.db.query<{ id: string }>(
      `SELECT id FROM sessions WHERE pool = $1 AND status IN ('QUEUED','PROVISIONING','RUNNING')`,
      [deps.pool],
    ),
  ]);
  const live = new Set(rows.map((r) => r.id));
  const held = new Set(slots);
  const out: string[] = [];
  for (const id of held) if (!live.has(id)) out.push(`slot held by ${id}, which is not live`);
  for (const id of live) if (!held.has(id)) out.push(`live session ${id} holds no slot`);
  return out;
}

/** Every pod is warm, starting, or the pod of a RUNNING session; every RUNNING session's pod exists. */
export async function podViolations(deps: InvariantDeps): Promise<string[]> {
  const keys = new RedisKeys(deps.prefix);
  const [pods, warm, starting, { rows }] = await Promise.all([
    deps.podIds(),
    deps.redis.lrange(keys.poolWarm(deps.pool), 0, -1),
    deps.redis.smembers(keys.poolStarting(deps.pool)),
    deps.db.query<{ id: string; pod_id: string | null }>(
      `SELECT id, pod_id FROM sessions WHERE pool = $1 AND status = 'RUNNING'`,
      [deps.pool],
    ),
  ]);
  const known = new Set([...warm, ...starting, ...rows.map((r) => r.pod_id)]);
  const exist = new Set(pods);
  const out: string[] = [];
  for (const id of pods) if (!known.has(id)) out.push(`pod ${id} leaked (not warm, starting or held)`);
  for (const r of rows) if (!r.pod_id || !exist.has(r.pod_id)) out.push(`RUNNING ${r.id} has no pod`);
  return out;
}

/** Lifecycle outcomes: `COMPLETED client_release` → count, and so on. */
export async function outcomeCounts(db: pg.Pool, workspaceId: string): Promise<Record<string, number>> {
  const { rows } = await db.query<{ outcome: string; n: number }>(
    `SELECT status || coalesce(' ' || release_reason, '') || coalesce(' (' || left(error, 60) || ')', '') AS outcome,
            count(*)::int AS n
       FROM sessions WHERE workspace_id = $1 GROUP BY 1 ORDER BY 2 DESC`,
    [workspaceId],
  );
  return Object.fromEntries(rows.map((r) => [r.outcome, r.n]));
}
