import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { TestContext } from '../support/test-context.ts';
import { inlineSchemaRefs } from '../support/openapi-refs.ts';

interface Operation {
  parameters: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<
    string,
    {
      headers?: Record<string, unknown>;
      content?: Record<string, { schema: { properties: Record<string, unknown> } }>;
    }
  >;
}
interface JsonSchema {
  $ref?: string;
  type?: string;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  examples?: unknown[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
}

/** Every property under a schema, with its path ("body.viewport.width"). */
function properties(schema: JsonSchema, at: string): [string, JsonSchema][] {
  return Object.entries(schema.properties ?? {}).flatMap(([name, property]) => [
    [`${at}.${name}`, property] as [string, JsonSchema],
    ...properties(property, `${at}.${name}`),
    ...(property.items ? properties(property.items, `${at}.${name}[]`) : []),
    ...(property.anyOf ?? []).flatMap((alt) => properties(alt, `${at}.${name}`)),
  ]);
}

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
}

/** Every request-body field of every operation, with its path ("POST /v1/sessions.viewport.width"). */
function requestFields(doc: OpenApiDoc): [string, JsonSchema][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).flatMap(([method, op]) => {
      const schema = op.requestBody?.content['application/json']?.schema;
      return schema ? properties(schema, `${method.toUpperCase()} ${path}`) : [];
    }),
  );
}

/** A number as a description may write it: 86400 or 86,400. */
const spellings = (n: number) => [String(n), n.toLocaleString('en-US')];
/** The largest Postgres integer: a storage bound on version numbers, not a range worth stating. */
const INT4_MAX = 2_147_483_647;

describe('/openapi.json', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  /** /openapi.json as served; `doc` is the same with the shared schemas written in place. */
  let raw: OpenApiDoc;
  let doc: OpenApiDoc;

  beforeAll(async () => {
    ctx = await TestContext.create();
    server = await ctx.startApi();
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    raw = (await res.json()) as OpenApiDoc;
    doc = inlineSchemaRefs(raw);
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('is a valid OpenAPI 3.1 document, served without authentication', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(raw as unknown as Record<string, unknown>);
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

  it('describes every request-body field', () => {
    const fields = requestFields(doc);
    expect(fields.length).toBeGreaterThan(90);
    expect(fields.filter(([, property]) => !property.description).map(([at]) => at)).toEqual([]);
  });

  it("states each request field's default and numeric range in its description", () => {
    const missing = requestFields(doc).flatMap(([at, p]) => {
      const text = (p.description ?? '').toLowerCase();
      const gaps = [
        p.default !== undefined &&
          !(
            text.includes('default') &&
            text.includes(JSON.stringify(p.default).replace(/^"|"$/g, '').toLowerCase())
          ) &&
          `default ${JSON.stringify(p.default)}`,
        p.minimum !== undefined &&
          !spellings(p.minimum).some((n) => text.includes(n)) &&
          `minimum ${p.minimum}`,
        p.maximum !== undefined &&
          p.maximum !== INT4_MAX &&
          !spellings(p.maximum).some((n) => text.includes(n)) &&
          `maximum ${p.maximum}`,
      ].filter(Boolean);
      return gaps.length ? [`${at}: ${gaps.join(', ')}`] : [];
    });
    expect(missing).toEqual([]);
  });

  it('gives every create-session field an example, and named request bodies to start from', () => {
    const create = doc.paths['/v1/sessions']!.post!;
    const leaves = properties(create.requestBody!.content['application/json']!.schema, 'body').filter(
      ([, p]) => !p.properties && p.type !== 'array' && p.type !== 'boolean',
    );
    expect(leaves.length).toBeGreaterThan(20);
    expect(leaves.filter(([, p]) => !p.examples?.length).map(([at]) => at)).toEqual([]);
    const named = (
      create.requestBody!.content['application/json'] as { examples?: Record<string, { summary?: string }> }
    ).examples;
    expect(Object.keys(named ?? {})).toEqual(
      expect.arrayContaining(['minimal', 'viewport_and_timeout', 'proxy', 'labels']),
    );
    for (const [name, example] of Object.entries(named ?? {})) expect(example.summary, name).toBeTruthy();
  });

  it('defines shared schemas once in components and references them: the problem document above all', () => {
    expect(Object.keys(raw.components.schemas)).toEqual(
      expect.arrayContaining(['Problem', 'Session', 'SessionList', 'Pool', 'CreateSessionBody', 'Viewport']),
    );
    const problemSchemas = Object.values(raw.paths).flatMap((item) =>
      Object.values(item).flatMap((op) =>
        Object.values(op.responses).flatMap((r) => {
          const media = r.content?.['application/problem+json'] as { schema: JsonSchema } | undefined;
          return media ? [media.schema] : [];
        }),
      ),
    );
    expect(problemSchemas.length).toBeGreaterThan(100);
    expect(new Set(problemSchemas.map((schema) => schema.$ref))).toEqual(
      new Set(['#/components/schemas/Problem']),
    );
    const text = JSON.stringify(raw);
    expect(text.split('An RFC 7807 problem document').length - 1).toBe(1);
    expect(text).not.toContain('x-schema-name');
    const create = raw.paths['/v1/sessions']!.post!;
    expect(create.responses['202']!.content!['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/Session',
    });
  });

  it('marks the headers the service requires as required', () => {
    const header = (path: string, method: string, name: string) =>
      doc.paths[path]![method]!.parameters.find((p) => p.in === 'header' && p.name === name);
    expect(header('/v1/sessions', 'post', 'idempotency-key')?.required).toBe(true);
    expect(header('/v1/sessions/{id}', 'delete', 'x-reason')?.required).toBe(true);
    // Optional where the service takes it as optional (a live-view link's reason).
    expect(header('/v1/sessions/{id}/live-view', 'post', 'x-reason')?.required ?? false).toBe(false);
  });
});
