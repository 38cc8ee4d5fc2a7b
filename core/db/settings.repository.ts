/** Installation-wide settings generated once and shared by every process. */
import type { Queryable } from './database.ts';

/** A setting generated once per installation (e.g. a signing secret) and shared by every process. */
export async function settingOrCreate(q: Queryable, key: string, generate: () => string): Promise<string> {
  await q.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
    key,
    generate(),
  ]);
  const { rows } = await q.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
  return rows[0]!.value;
}

/** A setting's value, or undefined when it was never generated. */
export async function getSetting(q: Queryable, key: string): Promise<string | undefined> {
  const { rows } = await q.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
  return rows[0]?.value;
}
