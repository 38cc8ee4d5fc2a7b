/** buildApp(services): registers plugins and routes and opens nothing. main.ts listens. */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { Services } from '../core/services.ts';
import { registerProblemHandlers } from './problem-handler.ts';
import { registerAuth } from './auth.ts';
import { registerRateLimit } from './rate-limit.ts';
import { registerOpenApi } from './openapi/openapi.plugin.ts';
import { sessionsRoutes } from './routes/sessions.routes.ts';
import { sessionActionsRoutes } from './routes/session-actions.routes.ts';
import { profilesRoutes } from './routes/profiles.routes.ts';
import { scrubUrl } from '../core/domain/scrubber.ts';

export interface BuildAppOptions {
  /** Body size limit in bytes (storage_state can be large). */
  bodyLimit?: number;
}

function makeAjv(coerce: boolean): Ajv {
  // Bodies: unknown fields and wrong types are a 400, never silently dropped or coerced.
  // Query strings and headers arrive as text: "limit=5" must become the integer 5.
  const ajv = new Ajv({
    removeAdditional: false,
    useDefaults: false,
    coerceTypes: coerce ? 'array' : false,
    allErrors: false,
    strict: false,
  });
  addFormats.default(ajv);
  return ajv;
}

export async function buildApp(services: Services, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // The cast keeps FastifyInstance's default logger type, so plugins take `FastifyInstance` plainly.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: services.log.child({ component: 'broker' }) as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 5 * 1024 * 1024,
    // Ids are generated here; a client's own X-Request-Id is not trusted for logs.
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
  });
  const strict = makeAjv(false);
  const coercing = makeAjv(true);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );
  app.addHook('onRequest', async (request, reply) => {
    // Query strings carry tokens (connect_url); log the path with tokens removed.
    request.log = request.log.child({ path: scrubUrl(request.url) });
    void reply.header('X-Request-Id', request.id);
  });
  registerProblemHandlers(app);
  registerAuth(app, services.db);
  await registerRateLimit(app, services);
  await registerOpenApi(app, services.config.publicUrl);
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  await app.register(sessionsRoutes(services));
  await app.register(sessionActionsRoutes(services));
  await app.register(profilesRoutes(services));
  return app;
}
