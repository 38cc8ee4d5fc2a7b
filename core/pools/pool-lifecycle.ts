/**
 * The one way pools are created and retired (API, CLI, dashboard): check the deployment's driver can
 * run the pool's runtime kind, write the pool and its audit row in one transaction, then wake the
 * pool controller. Settings of a live pool change through change-pool.ts.
 */
import type { DriverKind } from '../config/config.ts';
import { withTransaction, type Database } from '../db/database.ts';
import { insertPool, retirePoolRow, type NewPool, type PoolSettings } from '../db/pools.repository.ts';
import { appendAudit } from '../db/audit.repository.ts';
import { runtimeKindProblem } from '../runtime/runtime-kinds.ts';
import type { AuditClass } from '../db/audit.repository.ts';

/** Who changes a pool: an API key (its workspace gets the audit row) or the CLI. */
export interface PoolChangeActor {
  /** API key id, or "cli". */
  id: string;
  class: AuditClass;
  workspaceId: string | null;
}

export interface PoolLifecycleDeps {
  db: Database;
  /** The deployment's driver (VENTUS_DRIVER): a pool it cannot run is refused. */
  driver: DriverKind;
  /** Tells the fast path (admission limits, the pool controller) about the committed settings. */
  announce?: (pool: PoolSettings) => Promise<void>;
}

export type CreatePoolResult =
  { outcome: 'created'; pool: PoolSettings } | { outcome: 'exists' } | { outcome: 'invalid'; reason: string };

/**
 * Why a pool with these settings cannot run (on `driver`, when given), or undefined when it can.
 * Settings changes check the same rules without the driver (the pool's kind does not change).
 */
export function poolProblem(
  driver: DriverKind | undefined,
  p: Pick<NewPool, 'runtimeKind' | 'minReady' | 'maxTotal' | 'podTemplate'>,
): string | undefined {
  const kindProblem = driver && runtimeKindProblem(driver, p.runtimeKind);
  if (kindProblem) return kindProblem;
  if (p.minReady > p.maxTotal) return `min_ready (${p.minReady}) cannot exceed max_total (${p.maxTotal})`;
  // The driver's default image is the Linux Chromium runtime: an rda pool names its Windows image.
  if (p.runtimeKind === 'rda' && !p.podTemplate.image) {
    return 'An rda pool needs pod_template.image: a Windows RDA runtime image that implements the pod agent protocol (docs/agent-protocol.md)';
  }
  return undefined;
}

export async function createPool(
  deps: PoolLifecycleDeps,
  input: NewPool,
  actor: PoolChangeActor,
): Promise<CreatePoolResult> {
  const reason = poolProblem(deps.driver, input);
  if (reason) return { outcome: 'invalid', reason };
  const pool = await withTransaction(deps.db, async (tx) => {
    const created = await insertPool(tx, input);
    if (!created) return undefined;
    await appendAudit(tx, {
      workspaceId: actor.workspaceId,
      class: actor.class,
      actor: actor.id,
      action: 'pool.created',
      targetType: 'pool',
      targetId: created.name,
      detail: {
        region: created.region,
        runtime_kind: created.runtimeKind,
        min_ready: created.minReady,
        max_total: created.maxTotal,
        max_starting: created.maxStarting,
      },
    });
    return created;
  });
  if (!pool) return { outcome: 'exists' };
  await deps.announce?.(pool);
  return { outcome: 'created', pool };
}

/** Retires a live pool; undefined when there is none of that name (or it is retired already). */
export async function retirePool(
  deps: Pick<PoolLifecycleDeps, 'db' | 'announce'>,
  name: string,
  actor: PoolChangeActor,
): Promise<PoolSettings | undefined> {
  const retired = await withTransaction(deps.db, async (tx) => {
    const pool = await retirePoolRow(tx, name);
    if (pool) {
      await appendAudit(tx, {
        workspaceId: actor.workspaceId,
        class: actor.class,
        actor: actor.id,
        action: 'pool.retired',
        targetType: 'pool',
        targetId: name,
      });
    }
    return pool;
  });
  if (retired) await deps.announce?.(retired);
  return retired;
}
