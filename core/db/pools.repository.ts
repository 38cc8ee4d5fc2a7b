/** Pool settings (region x runtime_kind), the data the controller reconciles towards. */
import type { Queryable } from './database.ts';
import type { PodTemplateSettings } from '../domain/pod-template.schema.ts';

/** Pods the controller starts at once when a pool sets no `max_starting`. */
export const DEFAULT_MAX_STARTING = 4;

export interface PoolSettings {
  name: string;
  region: string;
  runtimeKind: string;
  minReady: number;
  maxTotal: number;
  maxStarting: number | null;
  /** How the pool's pods are shaped on the kubernetes driver ({} = the driver's defaults). */
  podTemplate: PodTemplateSettings;
  updatedAt: Date;
  /** Set once an operator retired the pool: no capacity, no admissions; creating it again revives it. */
  retiredAt: Date | null;
}

interface PoolRow {
  name: string;
  region: string;
  runtime_kind: string;
  min_ready: number;
  max_total: number;
  max_starting: number | null;
  pod_template: PodTemplateSettings | null;
  updated_at: Date | string;
  retired_at: Date | string | null;
}

const toPool = (r: PoolRow): PoolSettings => ({
  name: r.name,
  region: r.region,
  runtimeKind: r.runtime_kind,
  minReady: r.min_ready,
  maxTotal: r.max_total,
  maxStarting: r.max_starting,
  podTemplate: r.pod_template ?? {},
  // row_to_json (the "before" row of an update) gives the timestamp as a string.
  updatedAt: new Date(r.updated_at),
  retiredAt: r.retired_at === null ? null : new Date(r.retired_at),
});

export function poolName(region: string, runtimeKind: string): string {
  return `${region}-${runtimeKind}`;
}

export async function listPools(q: Queryable): Promise<PoolSettings[]> {
  const { rows } = await q.query<PoolRow>('SELECT * FROM pools ORDER BY name');
  return rows.map(toPool);
}

/** A page of pools by name, after `afterName` (a previous page's last), `limit` rows. */
export async function listPoolsPage(
  q: Queryable,
  page: { afterName?: string; limit: number },
): Promise<PoolSettings[]> {
  const { rows } = await q.query<PoolRow>(
    'SELECT * FROM pools WHERE ($1::text IS NULL OR name > $1) ORDER BY name LIMIT $2',
    [page.afterName ?? null, page.limit],
  );
  return rows.map(toPool);
}

export async function findPool(
  q: Queryable,
  region: string,
  runtimeKind: string,
): Promise<PoolSettings | undefined> {
  const { rows } = await q.query<PoolRow>('SELECT * FROM pools WHERE region = $1 AND runtime_kind = $2', [
    region,
    runtimeKind,
  ]);
  return rows[0] && toPool(rows[0]);
}

/** Seeds a pool on first start; an existing pool keeps the settings operators gave it. */
export async function seedPool(
  q: Queryable,
  p: Omit<PoolSettings, 'name' | 'maxStarting' | 'updatedAt' | 'podTemplate' | 'retiredAt'> & {
    maxStarting?: number | null;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO pools (name, region, runtime_kind, min_ready, max_total, max_starting)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [
      poolName(p.region, p.runtimeKind),
      p.region,
      p.runtimeKind,
      p.minReady,
      p.maxTotal,
      p.maxStarting ?? null,
    ],
  );
}

export async function getPool(q: Queryable, name: string): Promise<PoolSettings | undefined> {
  const { rows } = await q.query<PoolRow>('SELECT * FROM pools WHERE name = $1', [name]);
  return rows[0] && toPool(rows[0]);
}

/** The settings an operator may change live. `maxStarting: null` removes the limit. */
export interface PoolPatch {
  minReady?: number;
  maxTotal?: number;
  maxStarting?: number | null;
  podTemplate?: PodTemplateSettings;
}

/** Applies a patch; returns the pool before and after (undefined when there is no such pool). */
export async function updatePool(
  q: Queryable,
  name: string,
  patch: PoolPatch,
): Promise<{ before: PoolSettings; after: PoolSettings } | undefined> {
  const { rows } = await q.query<PoolRow & { old: PoolRow }>(
    `UPDATE pools p SET min_ready = COALESCE($2, p.min_ready), max_total = COALESCE($3, p.max_total),
            max_starting = CASE WHEN $4 THEN $5::integer ELSE p.max_starting END,
            pod_template = COALESCE($6::jsonb, p.pod_template), updated_at = now()
       FROM (SELECT * FROM pools WHERE name = $1 AND retired_at IS NULL FOR UPDATE) old
      WHERE p.name = old.name
      RETURNING p.*, row_to_json(old) AS old`,
    [
      name,
      patch.minReady ?? null,
      patch.maxTotal ?? null,
      patch.maxStarting !== undefined,
      patch.maxStarting ?? null,
      patch.podTemplate === undefined ? null : JSON.stringify(patch.podTemplate),
    ],
  );
  const row = rows[0];
  return row && { before: toPool(row.old), after: toPool(row) };
}

/** What an operator gives to create (or revive) a pool. */
export interface NewPool {
  region: string;
  runtimeKind: string;
  minReady: number;
  maxTotal: number;
  maxStarting: number | null;
  podTemplate: PodTemplateSettings;
}

/**
 * Creates the pool, or revives it with these settings when it was retired. Returns undefined when a
 * live pool of that region x runtime_kind exists already.
 */
export async function insertPool(q: Queryable, p: NewPool): Promise<PoolSettings | undefined> {
  const { rows } = await q.query<PoolRow>(
    `INSERT INTO pools (name, region, runtime_kind, min_ready, max_total, max_starting, pod_template)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (name) DO UPDATE SET min_ready = EXCLUDED.min_ready, max_total = EXCLUDED.max_total,
       max_starting = EXCLUDED.max_starting, pod_template = EXCLUDED.pod_template, retired_at = NULL,
       updated_at = now()
     WHERE pools.retired_at IS NOT NULL
     RETURNING *`,
    [
      poolName(p.region, p.runtimeKind),
      p.region,
      p.runtimeKind,
      p.minReady,
      p.maxTotal,
      p.maxStarting,
      JSON.stringify(p.podTemplate),
    ],
  );
  return rows[0] && toPool(rows[0]);
}

/**
 * Retires a live pool: no capacity (min_ready = max_total = 0, so the controller drains its warm
 * pods while sessions that hold one run on) and no new admissions. Undefined when there is no live
 * pool of that name.
 */
export async function retirePoolRow(q: Queryable, name: string): Promise<PoolSettings | undefined> {
  const { rows } = await q.query<PoolRow>(
    `UPDATE pools SET retired_at = now(), min_ready = 0, max_total = 0, updated_at = now()
      WHERE name = $1 AND retired_at IS NULL RETURNING *`,
    [name],
  );
  return rows[0] && toPool(rows[0]);
}
