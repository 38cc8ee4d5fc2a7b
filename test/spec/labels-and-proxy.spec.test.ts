import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestContext } from '../support/test-context.ts';
import { ApiClient } from '../support/api-client.ts';
import { SPEC } from './spec-sentences.ts';
import { inlineSchemaRefs } from '../support/openapi-refs.ts';

interface Schema {
  type?: string;
  pattern?: string;
  description?: string;
  propertyNames?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  anyOf?: Schema[];
  $ref?: string;
}

describe('labels and proxy.url, as /openapi.json documents them', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let api: ApiClient;
  let createBody: Schema;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 30 });
    server = await ctx.startApi();
    api = new ApiClient(server.url, (await ctx.seedKey()).apiKey);
    const doc = inlineSchemaRefs(
      (await (await fetch(`${server.url}/openapi.json`)).json()) as {
        paths: Record<
          string,
          Record<string, { requestBody: { content: Record<string, { schema: Schema }> } }>
        >;
      },
    );
    createBody = doc.paths['/v1/sessions']!.post!.requestBody.content['application/json']!.schema;
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  describe(SPEC.freeFormLabels, () => {
    const FREE_FORM = { 'Claim batch': '2026-05 east', 'a:b/c': 'x', ключ: 'значение', '#1 (payer)': 'y' };

    it('any printable key is accepted, returned as sent, and found by the label filter', async () => {
      const created = await api.createSession({ labels: FREE_FORM });
      expect(created.status).toBe(202);
      expect(created.body.labels).toEqual(FREE_FORM);
      // A colon in a key is escaped in the filter (\:).
      const found = await api.request<{ items: { id: string }[] }>(
        'GET',
        `/v1/sessions?label=${encodeURIComponent('a\\:b/c:x')}&label=${encodeURIComponent('Claim batch:2026-05 east')}`,
      );
      expect(found.status).toBe(200);
      expect(found.body.items.map((s) => s.id)).toEqual([created.body.id]);
    });

    it('keys are bounded: empty, over 128 characters or holding control characters are a 400', async () => {
      for (const key of ['', 'x'.repeat(129), 'line\nbreak', 'tab\there', 'del\u007f']) {
        const res = await api.createSession({ labels: { [key]: 'v' } });
        expect(res.status, JSON.stringify(key)).toBe(400);
      }
      expect((await api.createSession({ labels: { ['x'.repeat(128)]: 'v' } })).status).toBe(202);
    });

    it('/openapi.json says so: the key pattern and its bounds are in the labels schema', () => {
      const labels = createBody.properties!.labels!;
      const key = new RegExp(labels.propertyNames!.pattern!, 'u');
      for (const k of Object.keys(FREE_FORM)) expect(key.test(k), k).toBe(true);
      expect(key.test('x'.repeat(129))).toBe(false);
      expect(key.test('a\nb')).toBe(false);
      expect(labels.description).toMatch(/free-form/i);
    });
  });

  describe(SPEC.openApiContract, () => {
    it("proxy.url: /openapi.json's pattern admits exactly the URLs the service accepts", async () => {
      const pattern = new RegExp(createBody.properties!.proxy!.properties!.url!.pattern!);
      const urls = [
        'http://203.0.113.10:3128',
        'http://proxy.example.com:3128/',
        'http://[2001:db8::1]:3128',
        'https://203.0.113.10:8443',
        'socks5://203.0.113.10:1080',
        'http://user:secret@203.0.113.10:3128',
        'http://203.0.113.10:3128/path',
        'http://203.0.113.10:3128?q=1',
        'ftp://203.0.113.10',
      ];
      for (const url of urls) {
        const res = await api.createSession({ proxy: { url } });
        const accepted = res.status === 202;
        expect(accepted, `${url}: ${res.status} ${JSON.stringify(res.body.detail)}`).toBe(pattern.test(url));
        // What the pattern refuses is a schema error (400), never a later 422.
        if (!accepted) expect(res.status).toBe(400);
        if (accepted) await api.release(res.body.id);
      }
    });
  });
});
