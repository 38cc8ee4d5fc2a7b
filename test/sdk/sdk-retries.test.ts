/** The SDK's retries against the real service: a lost create response, and a pool at capacity. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VentusClient, VentusConnectionError } from '../../sdk/src/index.ts';
import { TestContext } from '../support/test-context.ts';
import type { Stack } from '../../stack/stack.ts';

interface Attempt {
  key: string | null;
  status: number | 'lost';
  retryAfter: string | null;
}

/** Records every POST /v1/sessions; with `dropFirst`, the first response is lost after the server handled it. */
function recordingFetch(attempts: Attempt[], dropFirst = false): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (init?.method !== 'POST' || !url.endsWith('/v1/sessions')) return res;
    const key = new Headers(init.headers).get('idempotency-key');
    if (dropFirst && attempts.length === 0) {
      attempts.push({ key, status: 'lost', retryAfter: null });
      await res.body?.cancel();
      throw new TypeError('fetch failed', { cause: new Error('socket hang up (simulated)') });
    }
    attempts.push({ key, status: res.status, retryAfter: res.headers.get('retry-after') });
    return res;
  };
}

describe('SDK retries against a pool of one', () => {
  let ctx: TestContext;
  let stack: Stack;
  let apiKey: string;
  let workspaceId: string;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 0, maxTotal: 1, env: { VENTUS_HEADLESS: 'true' } });
    stack = await ctx.startStack();
    ({ apiKey, workspaceId } = await ctx.seedKey());
  });

  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
  });

  it('a create retried after a lost response yields one session, under the same Idempotency-Key', async () => {
    const attempts: Attempt[] = [];
    const client = new VentusClient({ baseUrl: stack.url, apiKey, fetch: recordingFetch(attempts, true) });
    await using session = await client.createSession({}, { wait: true });

    expect(session.status).toBe('RUNNING');
    expect(attempts.map((a) => a.status)).toEqual(['lost', 200]); // 200: the idempotent replay
    expect(new Set(attempts.map((a) => a.key))).toEqual(new Set([session.idempotencyKey]));
    const rows = await ctx.db.query<{ id: string }>('SELECT id FROM sessions WHERE workspace_id = $1', [
      workspaceId,
    ]);
    expect(rows.rows.map((r) => r.id)).toEqual([session.id]);
  });

  it('createSession({wait: true}) asks the create to hold its answer (Prefer: wait) and reads no more', async () => {
    const requests: string[] = [];
    const client = new VentusClient({
      baseUrl: stack.url,
      apiKey,
      fetch: (input, init) => {
        requests.push(`${init?.method ?? 'GET'} ${new Headers(init?.headers).get('prefer') ?? '-'}`);
        return fetch(input, init);
      },
    });
    await using session = await client.createSession({}, { wait: true });
    expect(session.status).toBe('RUNNING');
    // A 503 (the last test's pod still going) is retried the same way; no GET is needed after it.
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) expect(request).toMatch(/^POST wait=\d+$/);
  });

  it('a lost response is not retried where a retry could act twice (keep-alive)', async () => {
    const client = new VentusClient({ baseUrl: stack.url, apiKey });
    await using session = await client.createSession({ keep_alive_seconds: 60 }, { wait: true });
    const lossy = new VentusClient({
      baseUrl: stack.url,
      apiKey,
      fetch: async (input, init) => {
        await fetch(input, init);
        throw new TypeError('fetch failed');
      },
    });
    await expect(lossy.keepAlive(session.id, 60)).rejects.toBeInstanceOf(VentusConnectionError);
  });

  it('503 insufficient-capacity with Retry-After is retried until a slot frees', async () => {
    const holderClient = new VentusClient({ baseUrl: stack.url, apiKey });
    const holder = await holderClient.createSession({}, { wait: true });
    const attempts: Attempt[] = [];
    const client = new VentusClient({ baseUrl: stack.url, apiKey, fetch: recordingFetch(attempts) });

    const started = Date.now();
    const pending = client.createSession({}, { wait: true, timeoutMs: 45_000 });
    setTimeout(() => void holder.release(), 1000);
    await using session = await pending;

    expect(session.status).toBe('RUNNING');
    expect(Date.now() - started).toBeGreaterThan(1000);
    expect(attempts[0]?.status).toBe(503);
    expect(attempts[0]?.retryAfter).toMatch(/^\d+$/);
    expect(attempts.at(-1)!.status).toBe(202);
    expect(new Set(attempts.map((a) => a.key)).size).toBe(1);
    expect((await holderClient.getSession(holder.id)).status).toBe('COMPLETED');
  });
});
