/**
 * The embedded Postgres of `ventus up`: a random password, kept in the private data dir (0600 file,
 * 0700 dir; 0711 as root, where Postgres runs as its own user), never a file in the shared /tmp.
 */
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { watch } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../stack/embedded-postgres.ts';
import { createLogger } from '../../core/logging/logger.ts';

describe('embedded Postgres', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  });

  it(
    'gets a random password kept in the private data dir; nothing is written to /tmp',
    { timeout: 120_000 },
    async () => {
      const shared = await mkdtemp(path.join(os.tmpdir(), 'ventus-shared-tmp-'));
      const dataDir = path.join(await mkdtemp(path.join(os.tmpdir(), 'ventus-embedded-')), 'data');
      cleanup.push(() => rm(path.dirname(dataDir), { recursive: true, force: true }));
      // As root Postgres runs as its own user, which must be able to pass through to the data dir.
      if (process.getuid?.() === 0) await chmod(path.dirname(dataDir), 0o711);
      cleanup.push(() => rm(shared, { recursive: true, force: true }));
      // Everything that appears in the (stand-in) shared temporary directory while the cluster is made.
      const seen: string[] = [];
      const watcher = watch(shared, (_event, name) => name && seen.push(name));
      const before = process.env.TMPDIR;
      process.env.TMPDIR = shared;
      let service;
      try {
        service = await startEmbeddedPostgres(dataDir, createLogger('silent'));
      } finally {
        process.env.TMPDIR = before;
        watcher.close();
      }
      cleanup.unshift(() => service.stop());
      expect(seen).toEqual([]);
      expect(await readdir(shared)).toEqual([]);

      const password = decodeURIComponent(new URL(service.url).password);
      expect(password).not.toBe('ventus-embedded');
      expect(password.length).toBeGreaterThanOrEqual(32);
      const file = await stat(path.join(dataDir, 'postgres-password'));
      expect(file.mode & 0o777).toBe(0o600);
      const dir = await stat(dataDir);
      expect(dir.mode & 0o777).toBe(process.getuid?.() === 0 ? 0o711 : 0o700);

      const client = new pg.Client(service.url);
      await client.connect();
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
      await client.end();
      const wrong = new URL(service.url);
      wrong.password = 'ventus-embedded';
      const refused = new pg.Client(wrong.toString());
      await expect(refused.connect()).rejects.toThrow(/password/);
    },
  );
});
