/**
 * The JWT signing keys (migrations/0007): which key signs, which still verify, and their lifecycle.
 * Every change (a key added, retired or deleted) is one transaction with its audit row.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { appendAudit, type AuditClass } from './audit.repository.ts';
import { withTransaction, type Database, type Queryable } from './database.ts';
import { newId } from '../domain/ids.ts';

export type SigningKeySource = 'generated' | 'environment';

export interface SigningKeyRecord {
  kid: string;
  source: SigningKeySource;
  /** Null for VENTUS_JWT_SECRET (held in the environment) and for deleted keys. */
  secret: string | null;
  legacy: boolean;
  createdAt: Date;
  retiredAt: Date | null;
  deletedAt: Date | null;
}

/** Who changed the keys, for the audit row. */
export interface SigningKeyActor {
  id: string;
  class: AuditClass;
}

interface Row {
  kid: string;
  source: SigningKeySource;
  secret: string | null;
  legacy: boolean;
  created_at: Date;
  retired_at: Date | null;
  deleted_at: Date | null;
}

const toRecord = (r: Row): SigningKeyRecord => ({
  kid: r.kid,
  source: r.source,
  secret: r.secret,
  legacy: r.legacy,
  createdAt: r.created_at,
  retiredAt: r.retired_at,
  deletedAt: r.deleted_at,
});

const TARGET = 'signing_key';
// Any constant: it only serialises changes of the key set (two rotations, two first starts).
const SIGNING_KEYS_LOCK = 0x6a776b73;

function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Every key, deleted ones included, oldest first. */
export async function listSigningKeys(q: Queryable): Promise<SigningKeyRecord[]> {
  const { rows } = await q.query<Row>('SELECT * FROM signing_keys ORDER BY created_at, kid');
  return rows.map(toRecord);
}

/** The keys that still verify (not deleted), oldest first. */
export async function listLiveSigningKeys(q: Queryable): Promise<SigningKeyRecord[]> {
  const { rows } = await q.query<Row>(
    'SELECT * FROM signing_keys WHERE deleted_at IS NULL ORDER BY created_at, kid',
  );
  return rows.map(toRecord);
}

async function lockKeys(tx: pg.PoolClient): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEYS_LOCK]);
}

async function retireAllBut(tx: pg.PoolClient, kid: string): Promise<string[]> {
  const { rows } = await tx.query<{ kid: string }>(
    'UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL AND kid <> $1 RETURNING kid',
    [kid],
  );
  return rows.map((r) => r.kid).sort();
}

/**
 * A first key for an installation without one (a fresh database and no VENTUS_JWT_SECRET): a no-op
 * when a key signs already. Not audited: it is part of installing, like the default pool.
 */
export async function ensureSigningKey(db: Database): Promise<void> {
  await withTransaction(db, async (tx) => {
    await lockKeys(tx);
    await tx.query(
      `INSERT INTO signing_keys (kid, source, secret)
         SELECT $1, 'generated', $2 WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL)`,
      [`k${newId()}`, newSecret()],
    );
  });
}

/**
 * Registers VENTUS_JWT_SECRET by its kid (never its value). A kid seen before (signing, retired or
 * deleted) changes nothing; a new one (a first start, or the variable changed) becomes the signing key
 * and retires the others. Returns whether it was new.
 */
export async function registerEnvironmentKey(db: Database, kid: string): Promise<boolean> {
  return withTransaction(db, async (tx) => {
    await lockKeys(tx);
    const known = await tx.query('SELECT 1 FROM signing_keys WHERE kid = $1', [kid]);
    if (known.rowCount) return false;
    const retired = await retireAllBut(tx, kid);
    await tx.query(`INSERT INTO signing_keys (kid, source, legacy) VALUES ($1, 'environment', true)`, [kid]);
    await appendAudit(tx, {
      workspaceId: null,
      class: 'system',
      actor: 'services',
      action: 'signing_key.configured',
      targetType: TARGET,
      targetId: kid,
      detail: { source: 'environment', retired: retired.join(',') },
    });
    return true;
  });
}

/** Adds a generated key that signs from now on and retires every other key (they keep verifying). */
export async function rotateSigningKey(
  db: Database,
  actor: SigningKeyActor,
): Promise<{ key: SigningKeyRecord; retired: string[] }> {
  return withTransaction(db, async (tx) => {
    await lockKeys(tx);
    const kid = `k${newId()}`;
    const retired = await retireAllBut(tx, kid);
    const { rows } = await tx.query<Row>(
      `INSERT INTO signing_keys (kid, source, secret) VALUES ($1, 'generated', $2) RETURNING *`,
      [kid, newSecret()],
    );
    await appendAudit(tx, {
      workspaceId: null,
      class: actor.class,
      actor: actor.id,
      action: 'signing_key.rotated',
      targetType: TARGET,
      targetId: kid,
      detail: { retired: retired.join(',') },
    });
    return { key: toRecord(rows[0]!), retired };
  });
}

export interface DeletableKeysRule {
  now: Date;
  /** How long after its retirement a process may still sign with a key (it had not reloaded yet). */
  propagationSeconds: number;
  /** The longest lifetime of a token with an expiry (live view, recording URL). */
  tokenLifetimeSeconds: number;
}

/**
 * Deletes (forgets the secret of) every retired key that nothing can still present: no session that
 * was created while it could sign is still live, and every expiring token it signed has expired.
 * Each deletion is audited. Returns the deleted kids.
 */
export async function deleteSpentSigningKeys(
  db: Database,
  rule: DeletableKeysRule,
  actor: SigningKeyActor,
): Promise<string[]> {
  return withTransaction(db, async (tx) => {
    await lockKeys(tx);
    const { rows } = await tx.query<{ kid: string; retired_at: Date }>(
      `UPDATE signing_keys k SET secret = NULL, deleted_at = $1::timestamptz
        WHERE k.retired_at IS NOT NULL AND k.deleted_at IS NULL
          AND k.retired_at + make_interval(secs => $2::double precision + $3::double precision) <= $1
          AND NOT EXISTS (
            SELECT 1 FROM sessions s
             WHERE s.status IN ('QUEUED','PROVISIONING','RUNNING')
               AND s.created_at < k.retired_at + make_interval(secs => $2::double precision))
        RETURNING kid, retired_at`,
      [rule.now, rule.propagationSeconds, rule.tokenLifetimeSeconds],
    );
    for (const r of rows)
      await appendAudit(tx, {
        workspaceId: null,
        class: actor.class,
        actor: actor.id,
        action: 'signing_key.deleted',
        targetType: TARGET,
        targetId: r.kid,
        detail: { retired_at: r.retired_at.toISOString() },
      });
    return rows.map((r) => r.kid).sort();
  });
}
