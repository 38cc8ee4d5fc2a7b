import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient, type ApiResponse } from '../support/api-client.ts';
import { seedPool } from '../../core/db/pools.repository.ts';
import { SPEC } from './spec-sentences.ts';

interface Page<T> {
  items: T[];
  next_cursor: string | null;
  has_more: boolean;
}

/** Every page of a list, following next_cursor; checks the spec's shape on each page. */
async function readAll<T>(api: ApiClient, path: string, limit: number): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res: ApiResponse<Page<T>> = await api.request<Page<T>>(
      'GET',
      `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['has_more', 'items', 'next_cursor']);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    pages.push(res.body.items);
    cursor = res.body.next_cursor;
    expect(res.body.has_more).toBe(cursor !== null);
  } while (cursor);
  return pages;
}

describe(SPEC.pagination, () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let operator: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 5 });
    for (const region of ['europe-west1', 'us-west2']) {
      await seedPool(ctx.db, { region, runtimeKind: 'chromium', minReady: 0, maxTotal: 1 });
    }
    server = await ctx.startApi();
    operator = new ApiClient(server.url, (await ctx.seedKey(['operator'])).apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('GET /v1/pools: items, next_cursor, has_more; limit and cursor walk every pool once', async () => {
    const pages = await readAll<{ name: string }>(operator, '/v1/pools', 2);
    expect(pages.map((p) => p.length)).toEqual([2, 1]);
    expect(pages.flat().map((p) => p.name)).toEqual([
      'europe-west1-chromium',
      'us-east1-chromium',
      'us-west2-chromium',
    ]);
  });

  it('GET /v1/sessions/{id}/transitions: limit and cursor walk the history once', async () => {
    const s = await operator.createSession();
    await operator.release(s.body.id);
    const pages = await readAll<{ to: string }>(operator, `/v1/sessions/${s.body.id}/transitions`, 1);
    expect(pages.map((p) => p.map((t) => t.to))).toEqual([['QUEUED'], ['COMPLETED']]);
  });

  it('a cursor that is not one of ours is a 400 problem, on every list', async () => {
    const s = await operator.createSession();
    for (const path of ['/v1/pools', `/v1/sessions/${s.body.id}/transitions`, '/v1/sessions', '/v1/audit']) {
      for (const cursor of ['abc', Buffer.from('{"after":"x y"}').toString('base64url')]) {
        const res = await operator.request<{ type: string; instance: string }>(
          'GET',
          `${path}?cursor=${cursor}`,
        );
        expect(res.status, `${path}?cursor=${cursor}`).toBe(400);
        expect(res.body.type).toMatch(/\/errors\/validation-error$/);
        expect(res.body.instance).toBe(path);
      }
    }
    await operator.release(s.body.id);
  });
});
