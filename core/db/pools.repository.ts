/** Pool settings (region x runtime_kind), the data the controller reconciles towards. */
import type { Queryable } from './database.ts';

export interface PoolSettings {
  name: string;
  region: string;
  runtimeKind: string;
  minReady: number;
  maxTotal: number;
  maxStarting: number | null;
}

interface PoolRow {
  name: string;
  region: string;
  runtime_kind: string;
  min_ready: number;
  max_total: number;
  max_starting: number | null;
}

const toPool = (r: PoolRow): PoolSettings => ({
  name: r.name,
  region: r.region,
  runtimeKind: r.runtime_kind,
  minReady: r.min_ready,
  maxTotal: r.max_total,
  maxStarting: r.max_starting,
});

export function poolName(region: string, runtimeKind: string): string {
  return `${region}-${runtimeKind}`;
}

export async function listPools(q: Queryable): Promise<PoolSettings[]> {
  const { rows } = await q.query<PoolRow>('SELECT * FROM pools ORDER BY name');
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
  p: Omit<PoolSettings, 'name' | 'maxStarting'> & { maxStarting?: number | null },
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

export async function updatePool(
  q: Queryable,
  name: string,
  patch: { minReady?: number; maxTotal?: number },
): Promise<PoolSettings | undefined> {
  const { rows } = await q.query<PoolRow>(
    `UPDATE pools SET min_ready = COALESCE($2, min_ready), max_total = COALESCE($3, max_total), updated_at = now()
      WHERE name = $1 RETURNING *`,
    [name, patch.minReady ?? null, patch.maxTotal ?? null],
  );
  return rows[0] && toPool(rows[0]);
}
