import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { PROBLEMS, type ProblemType } from '../../core/domain/problems.ts';
import type { Stack } from '../../stack/stack.ts';
import { SPEC } from './spec-sentences.ts';

interface Refusal {
  status: number;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

/** A CDP upgrade the proxy refuses: its status, content type and problem document. */
function refusedUpgrade(url: string): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          body: JSON.parse(text) as Record<string, unknown>,
        });
        ws.terminate();
      });
    });
    ws.once('error', () => {});
  });
}

describe(SPEC.problemDocuments, () => {
  let ctx: TestContext;
  let stack: Stack;
  let api: ApiClient;

  beforeAll(async () => {
    ctx = await TestContext.create({ minReady: 0, maxTotal: 2 });
    stack = await ctx.startStack();
    api = new ApiClient(stack.url, (await ctx.seedKey()).apiKey);
  });
  afterAll(async () => {
    await stack?.close();
    await ctx?.close();
  });

  /** Each problem's `type` names this deployment's page for it, and the page says what to do. */
  async function expectServedType(doc: Record<string, unknown>, type: ProblemType): Promise<void> {
    expect(doc.type).toBe(`${stack.url}/errors/${type}`);
    const page = await fetch(String(doc.type));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain(PROBLEMS[type].title);
    expect(html).toContain('What to do');
  }

  it('REST errors carry instance, and a type URL built from PUBLIC_URL that is served', async () => {
    const missing = await api.getSession('01JC1AMQX4N3PWV9MR2BCKDH7E');
    expect(missing.body).toMatchObject({ status: 404, instance: '/v1/sessions/01JC1AMQX4N3PWV9MR2BCKDH7E' });
    await expectServedType(missing.body, 'not-found');
    const invalid = await api.createSession({ timeout_seconds: 5 });
    expect(invalid.body).toMatchObject({ status: 400, instance: '/v1/sessions' });
    await expectServedType(invalid.body, 'validation-error');
  });

  it('CDP upgrade refusals are problem documents with instance: 401 for a bad token, 410 once ended (and leave no count)', async () => {
    const created = await api.createSession();
    const connectUrl = String(created.body.connect_url);
    const path = `/v1/sessions/${created.body.id}/cdp`;

    const badToken = await refusedUpgrade(connectUrl.replace(/token=[^&]+/, 'token=not-a-jwt'));
    expect(badToken.status).toBe(401);
    expect(badToken.contentType).toMatch(/^application\/problem\+json/);
    expect(badToken.body).toMatchObject({ status: 401, title: 'Unauthorized', instance: path });
    await expectServedType(badToken.body, 'unauthorized');

    await api.release(created.body.id);
    const ended = await refusedUpgrade(connectUrl);
    expect(ended.status).toBe(410);
    expect(ended.body).toMatchObject({ status: 410, title: 'Session ended', instance: path });
    // The token never appears in the document.
    expect(JSON.stringify(ended.body)).not.toContain('token=');
    await expectServedType(ended.body, 'session-ended');
    // The proxy counts a connect while it looks the route up; a refused one leaves no count behind.
    const id = String(created.body.id);
    expect(await stack.services.redis.exists(stack.services.redisKeys.cdpConnections(id))).toBe(0);
  });

  it('every problem type of the registry has its page, and /errors lists them', async () => {
    const index = await (await fetch(`${stack.url}/errors`)).text();
    for (const type of Object.keys(PROBLEMS) as ProblemType[]) {
      expect(index).toContain(`${stack.url}/errors/${type}`);
      const json = await fetch(`${stack.url}/errors/${type}`, { headers: { accept: 'application/json' } });
      expect(await json.json()).toMatchObject({
        type: `${stack.url}/errors/${type}`,
        status: PROBLEMS[type].status,
        advice: PROBLEMS[type].advice,
      });
    }
    const unknown = await fetch(`${stack.url}/errors/no-such-error`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ instance: '/errors/no-such-error' });
  });
});
