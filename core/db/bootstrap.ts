/** First-start setup every entry point shares: schema migrations and the default pool. */
import type { Config } from '../config/config.ts';
import type { Database } from './database.ts';
import { migrate } from './migrate.ts';
import { seedPool } from './pools.repository.ts';

export async function prepareDatabase(db: Database, config: Config): Promise<void> {
  await migrate(db);
  await seedPool(db, {
    region: config.pool.region,
    runtimeKind: 'chromium',
    minReady: config.pool.minReady,
    maxTotal: config.pool.maxTotal,
  });
}
