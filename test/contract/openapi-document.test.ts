import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { TestContext } from '../support/test-context.ts';

interface Operation {
  parameters: { name: string }[];
  responses: Record<
    string,
    {
      headers?: Record<string, unknown>;
      content?: Record<string, { schema: { properties: Record<string, unknown> } }>;
    }
  >;
}
interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

describe('/openapi.json', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let doc: OpenApiDoc;

  beforeAll(async () => {
    ctx = await TestContext.create();
    server = await ctx.startApi();
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as OpenApiDoc;
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('is a valid OpenAPI 3.1 document, served without authentication', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every session route with its headers and problem responses', () => {
    const paths = doc.paths;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        '/v1/sessions',
        '/v1/sessions/{id}',
        '/v1/sessions/{id}:keepalive',
        '/v1/sessions/{id}/transitions',
      ]),
    );
    const create = paths['/v1/sessions']!.post!;
    expect(create.parameters.map((p) => p.name)).toContain('idempotency-key');
    expect(Object.keys(create.responses)).toEqual(
      expect.arrayContaining(['200', '202', '400', '401', '422', '429', '503']),
    );
    expect(create.responses['503']!.headers!['Retry-After']).toBeDefined();
    expect(
      create.responses['503']!.content!['application/problem+json']!.schema.properties.type,
    ).toBeDefined();
    expect(paths['/v1/sessions/{id}']!.delete!.parameters.map((p) => p.name)).toContain('x-reason');
  });

  it('describes the unauthenticated operations routes: /healthz, /readyz, /metrics', () => {
    const ops = (path: string) => doc.paths[path]!.get! as Operation & { security: unknown[] };
    for (const path of ['/healthz', '/readyz', '/metrics']) expect(ops(path).security).toEqual([]);
    expect(Object.keys(ops('/readyz').responses)).toEqual(expect.arrayContaining(['200', '503']));
    expect(ops('/readyz').responses['503']!.headers!['Retry-After']).toBeDefined();
    expect(Object.keys(ops('/metrics').responses['200']!.content!)).toEqual(['text/plain']);
    expect(Object.keys(ops('/metrics').responses)).toContain('401');
  });
});
