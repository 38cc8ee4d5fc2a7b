/**
 * /openapi.json (OpenAPI 3.1, generated from the route schemas) and a human-readable reference at /docs
 * (Scalar: the page and its script come from node_modules, so it works with no internet access).
 */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import apiReference from '@scalar/fastify-api-reference';
import { publishRequiredHeaders } from './route-schema.ts';
import { liftNamedSchemas } from './shared-schemas.ts';
import { addRequestExamples } from './request-examples.ts';

/** Regex-constrained params (`:id(^…$)`) read as plain `{id}` in the document. */
function publicPath(url: string): string {
  return url.replace(/:(\w+)\([^)]*\)/g, ':$1');
}

export async function registerOpenApi(app: FastifyInstance, publicUrl: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ventus Sessions API',
        version: '1.0.0',
        description:
          'Disposable, pre-warmed Chrome sessions. REST control plane under /v1; the browser data plane is the ' +
          "CDP WebSocket at each session's `connect_url`. Errors are RFC 7807 problem documents.",
      },
      servers: [{ url: publicUrl }],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'vs_<ULID>.<32 chars>' },
        },
      },
      security: [{ bearerAuth: [] }],
    },
    transform: ({ schema, url }) => ({ schema: publishRequiredHeaders(schema), url: publicPath(url) }),
    // `/v1/sessions/{id}:keepalive` is a custom method, not a second path parameter.
    transformObject: (documents) => {
      const doc = 'openapiObject' in documents ? documents.openapiObject : documents.swaggerObject;
      doc.paths = Object.fromEntries(
        Object.entries(doc.paths ?? {}).map(([path, item]) => [path.replace(/:\{(\w+)\}/g, ':$1'), item]),
      );
      addRequestExamples(doc.paths as Parameters<typeof addRequestExamples>[0]);
      return liftNamedSchemas(doc);
    },
  });
  await app.register(apiReference, {
    routePrefix: '/docs',
    logLevel: 'warn',
    configuration: {
      url: '/openapi.json',
      metaData: { title: 'Ventus Sessions API reference' },
      // Offline and private: no fonts from fonts.scalar.com, no Scalar request proxy, no telemetry;
      // "Try it out" calls this service directly (same origin).
      withDefaultFonts: false,
      telemetry: false,
      hideClientButton: true,
      showDeveloperTools: 'never',
      // Both reach Scalar's hosted services.
      mcp: { disabled: true },
      agent: { disabled: true },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
