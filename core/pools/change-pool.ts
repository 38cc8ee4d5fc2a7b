/**
 * The one way pool settings change (API and CLI): validate the result, update Postgres and append an
 * audit row in one transaction, then announce the settings: admission holds to the new limits at once
 * and the pool controller acts within a second.
 */
import { withTransaction, type Database } from '../db/database.ts';
import { updatePool, type PoolPatch, type PoolSettings } from '../db/pools.repository.ts';
import { appendAudit } from '../db/audit.repository.ts';
import { poolProblem, type PoolChangeActor } from './pool-lifecycle.ts';

export type { PoolChangeActor } from './pool-lifecycle.ts';

export type PoolChangeResult =
  | { outcome: 'changed'; before: PoolSettings; after: PoolSettings }
  | { outcome: 'not-found' }
  | { outcome: 'invalid'; reason: string };

/** Thrown inside the transaction so the update rolls back. */
class InvalidPoolChange extends Error {}

export async function changePool(
  deps: { db: Database; announce?: (pool: PoolSettings) => Promise<void> },
  name: string,
  patch: PoolPatch,
  actor: PoolChangeActor,
): Promise<PoolChangeResult> {
  let result: PoolChangeResult;
  try {
    result = await withTransaction(deps.db, async (tx): Promise<PoolChangeResult> => {
      const updated = await updatePool(tx, name, patch);
      if (!updated) return { outcome: 'not-found' };
      const { before, after } = updated;
      const problem = poolProblem(undefined, after);
      if (problem) throw new InvalidPoolChange(problem);
      await appendAudit(tx, {
        workspaceId: actor.workspaceId,
        class: actor.class,
        actor: actor.id,
        action: 'pool.updated',
        targetType: 'pool',
        targetId: name,
        detail: {
          min_ready: after.minReady,
          max_total: after.maxTotal,
          max_starting: after.maxStarting,
          previous_min_ready: before.minReady,
          previous_max_total: before.maxTotal,
          previous_max_starting: before.maxStarting,
          pod_template_changed: JSON.stringify(before.podTemplate) !== JSON.stringify(after.podTemplate),
        },
      });
      return { outcome: 'changed', before, after };
    });
  } catch (err) {
    if (err instanceof InvalidPoolChange) return { outcome: 'invalid', reason: err.message };
    throw err;
  }
  if (result.outcome === 'changed') await deps.announce?.(result.after);
  return result;
}
