/**
 * /openapi.json is the contract: a client generated from it (openapi-typescript types, as the SDK's
 * `npm run sdk:types` makes them, with openapi-fetch) creates a session with no hand-written header
 * but the API key. Idempotency-Key is a required header parameter, so the types make the caller pass
 * it (the @ts-expect-error below is checked by `tsc`, part of `npm run check`); the request-body
 * examples the document offers ("Try it out") are accepted as they are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from '../../sdk/src/generated/openapi.d.ts';
import { TestContext } from '../support/test-context.ts';

/** Never called: it only has to type-check. Without the header, the call does not compile. */
export function idempotencyKeyIsRequired(client: Client<paths>): void {
  // @ts-expect-error -- params.header['idempotency-key'] is required by the contract
  void client.POST('/v1/sessions', { body: {} });
}

describe('an OpenAPI-generated client', () => {
  let ctx: TestContext;
  let server: Awaited<ReturnType<TestContext['startApi']>>;
  let client: Client<paths>;

  beforeAll(async () => {
    ctx = await TestContext.create({ maxTotal: 10 });
    server = await ctx.startApi();
    const { apiKey } = await ctx.seedKey();
    client = createClient<paths>({ baseUrl: server.url, headers: { authorization: `Bearer ${apiKey}` } });
  });
  afterAll(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('creates a session, passing Idempotency-Key as the typed header parameter', async () => {
    const { data, error, response } = await client.POST('/v1/sessions', {
      params: { header: { 'idempotency-key': randomUUID() } },
      body: { keep_alive_seconds: 60, labels: { from: 'generated-client' } },
    });
    expect(error).toBeUndefined();
    expect(response.status).toBe(202);
    expect(data).toMatchObject({ status: 'QUEUED', keep_alive_seconds: 60, timeout_seconds: 1800 });
    const got = await client.GET('/v1/sessions/{id}', { params: { path: { id: data!.id } } });
    expect(got.data?.id).toBe(data!.id);
  });

  it('accepts every request-body example the document offers for creating a session', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<
          string,
          { requestBody: { content: Record<string, { examples?: Record<string, { value: unknown }> }> } }
        >
      >;
    };
    const offered = doc.paths['/v1/sessions']!.post!.requestBody.content['application/json']!.examples ?? {};
    const examples = Object.values(offered).map((e) => e.value);
    expect(examples.length).toBeGreaterThan(0);
    for (const body of examples) {
      const { response, error } = await client.POST('/v1/sessions', {
        params: { header: { 'idempotency-key': randomUUID() } },
        body: body as never,
      });
      expect(error, JSON.stringify(body)).toBeUndefined();
      expect(response.status).toBe(202);
    }
  });
});
