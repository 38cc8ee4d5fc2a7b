/**
 * /openapi.json (OpenAPI 3.1, generated from the route schemas) and a human-readable reference at /docs.
 */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

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
    transform: ({ schema, url }) => ({ schema, url: publicPath(url) }),
    // `/v1/sessions/{id}:keepalive` is a custom method, not a second path parameter.
    transformObject: (documents) => {
      const doc = 'openapiObject' in documents ? documents.openapiObject : documents.swaggerObject;
      doc.paths = Object.fromEntries(
        Object.entries(doc.paths ?? {}).map(([path, item]) => [path.replace(/:\{(\w+)\}/g, ':$1'), item]),
      );
      return doc;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
